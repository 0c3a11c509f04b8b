#include "experiments/suite.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb {

namespace fs = std::filesystem;

std::vector<NodePtr> expand_threat(const NodePtr& entry) {
  std::vector<NodePtr> out = {entry->clone()};
  for (const auto& [key, value] : entry->map) {
    if (value->kind != ConfigNode::Kind::kSequence) continue;
    if (value->seq.empty()) throw ConfigError(value->where(), fmt::format("'{}' is an empty list", key));
    std::vector<NodePtr> next;
    for (const auto& partial : out)
      for (const auto& v : value->seq) {
        auto n = partial->clone();
        n->set(key, v->clone());
        next.push_back(n);
      }
    out = std::move(next);
  }
  return out;
}

namespace {

std::vector<SuiteThreat> build_list(const Config& suite, const std::string& key) {
  std::vector<SuiteThreat> out;
  if (!suite.has(key)) return out;
  auto list = suite.node()->get(key);
  if (list->kind != ConfigNode::Kind::kSequence)
    throw ConfigError(list->where(), fmt::format("'{}' must be a list of threats such as [{{name: fgsm, eps: 0.03}}]", key));
  for (size_t i = 0; i < list->seq.size(); ++i) {
    const auto& entry = list->seq[i];
    if (entry->kind != ConfigNode::Kind::kMap)
      throw ConfigError(entry->where(), "each threat must be a map with a 'name' (e.g. {name: gaussian, std: 0.08})");
    for (const auto& one : expand_threat(entry)) {
      SuiteThreat st;
      st.config = one;
      // Read (and so marked used) before make_threat rejects the keys its threat does not know.
      Config(one, fmt::format("{}[{}]", key, i)).read("n_examples", st.n_examples, Range::at_least(0));
      Config(one, fmt::format("{}[{}]", key, i)).read("transfer", st.transfer);
      st.threat = make_threat(Config(one, fmt::format("{}[{}]", key, i)));
      out.push_back(std::move(st));
    }
    entry->used = false;  // checked strictly through its expanded copies above
  }
  return out;
}

Suite decode(const NodePtr& root, const std::string& file, bool allow_empty = false) {
  Suite s;
  s.file = file;
  Config c(root, "");
  s.name = fs::path(file).stem().string();
  if (c.read("name", s.name)) require_plain_name(s.name, c.where("name"), "the suite's name");  // eval/<name>.csv
  auto ev = c.sub("eval");
  ev.read("n_examples", s.n_examples, Range::at_least(0));
  ev.read("batch_size", s.batch_size, Range::at_least(1));
  int64_t seed = 0;
  if (ev.read("seed", seed, Range::at_least(0))) s.seed = static_cast<uint64_t>(seed);
  std::string noise = "off";
  ev.read_choice("noise", noise, {"on", "off"});
  s.noise = noise == "on";
  ev.read("noise_samples", s.noise_samples, Range::between(1, 100000));
  ev.read("eot_iter", s.eot_iter, Range::between(1, 100000));
  s.threats = build_list(c, "threats");
  s.sweep = build_list(c, "sweep");
  if (!allow_empty && s.threats.empty() && s.sweep.empty()) throw ConfigError(file, "the suite lists no threats");
  // A gradient attack on a noisy model that follows one draw of the noise measures that draw, not the model.
  if (s.noise && s.eot_iter < 2)
    for (const auto* list : {&s.threats, &s.sweep})
      for (const auto& t : *list)
        if (auto* a = dynamic_cast<const Attack*>(t.threat.get()); a && a->needs_input_grad())
          throw ConfigError(file, fmt::format("eval.noise: on with eval.eot_iter: {}: the gradient attack '{}' would "
                                              "follow one random draw of the noise; set eval.eot_iter (AutoAttack's "
                                              "rand version uses 20) or eval.noise: off",
                                              s.eot_iter, a->key()));
  c.reject_unread_keys();
  return s;
}

}  // namespace

std::string find_suite(const std::string& name_or_path) {
  if (fs::exists(name_or_path) && fs::is_regular_file(name_or_path)) return name_or_path;
  std::vector<fs::path> dirs = {"experiments/suites"};
  if (const char* src = std::getenv("LRB_SOURCE_DIR")) dirs.push_back(fs::path(src) / "experiments" / "suites");
#ifdef LRB_SOURCE_DIR_BUILTIN
  dirs.push_back(fs::path(LRB_SOURCE_DIR_BUILTIN) / "experiments" / "suites");
#endif
  std::vector<std::string> known, searched;
  for (const auto& d : dirs) {
    auto f = d / (name_or_path + ".yaml");
    if (fs::exists(f)) return f.string();
    searched.push_back(d.string());
    if (fs::is_directory(d))
      for (const auto& e : fs::directory_iterator(d))
        if (e.path().extension() == ".yaml") known.push_back(e.path().stem().string());
  }
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  throw ConfigError("--suite", fmt::format("no suite '{}' (known: {}; searched {}){}", name_or_path,
                                           fmt::join(known, ", "), fmt::join(searched, ", "),
                                           did_you_mean(name_or_path, known)));
}

Suite load_suite(const std::string& path, const std::vector<std::string>& overrides) {
  auto root = parse_yaml_file(path);
  int pos = 1;
  for (const auto& o : overrides) apply_override(root, o, "", pos++);
  return decode(root, path);
}

namespace {
std::string modality_list(const Threat& t) {
  std::vector<std::string> names;
  for (auto m : t.modalities()) names.push_back(modality_name(m));
  return fmt::format("{} data", fmt::join(names, " or "));
}
}  // namespace

void check_fits(const Suite& suite, Modality m, const std::string& dataset, const ThreatContext* ctx) {
  for (const auto* list : {&suite.threats, &suite.sweep})
    for (const auto& t : *list)
      if (!t.threat->fits(m))
        throw ConfigError(t.config->where(), fmt::format("threat '{}' does not apply to {} data (dataset '{}'; it "
                                                         "takes {}); remove it from the suite or evaluate another run",
                                                         t.threat->key(), modality_name(m), dataset,
                                                         modality_list(*t.threat)));
      else if (ctx)
        try {
          t.threat->check(*ctx);
        } catch (const ConfigError& e) {
          throw ConfigError(t.config->where(), e.what());
        }
}

Suite clean_suite(const std::vector<std::string>& overrides) {
  auto root = parse_yaml_string("name: clean\n", "<eval>");
  int pos = 1;
  for (const auto& o : overrides) {
    if (o.rfind("eval.", 0) != 0)
      throw ConfigError(fmt::format("<command line>:1:{}", pos),
                        fmt::format("override '{}' needs --suite or --threat (without them only eval.k=v applies)", o));
    apply_override(root, o, "", pos++);
  }
  return decode(root, "<eval>", true);
}

Suite single_threat_suite(const std::string& name, const std::vector<std::string>& overrides) {
  auto root = parse_yaml_string(fmt::format("name: {}\nthreats:\n  - {{name: {}}}\n", name, name), "--threat");
  auto threat = root->get("threats")->seq.front();
  int pos = 1;
  for (const auto& o : overrides) {
    if (o.rfind("threat.", 0) == 0) {
      auto t = threat;
      apply_override(t, o.substr(7), "", pos++);
    } else if (o.rfind("eval.", 0) == 0) {
      apply_override(root, o, "", pos++);
    } else {
      throw ConfigError(fmt::format("<command line>:1:{}", pos),
                        fmt::format("override '{}' must start with threat. or eval. (e.g. threat.eps=0.01)", o));
    }
  }
  return decode(root, "--threat " + name);
}

}  // namespace lrb
