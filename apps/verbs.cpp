#include "apps/verbs.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "experiments/train_run.h"
#include "trainers/lr/gradcheck.h"
#include "core/registry.h"
#include "datasets/dataset.h"
#include "models/classifier.h"
#include "threats/threat.h"
#include "trainers/trainer.h"

namespace lrb {

namespace {

template <class Base>
void print_kind(const std::string& title, std::ostream& out) {
  out << title << ":\n";
  for (const auto& [key, entry] : Registry<Base>::get().entries())
    out << fmt::format("  {:<16} {}{}\n", key, entry.summary,
                       entry.origin.empty() ? "" : fmt::format("  [plugin {}]", entry.origin));
}

}  // namespace

int list_plugins(const std::string& kind, std::ostream& out) {
  const std::vector<std::string> kinds = {"trainers", "models", "datasets", "attacks", "corruptions", "all"};
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw ConfigError("lrbench list", fmt::format("unknown plugin kind '{}' (known: trainers, models, datasets, "
                                                  "attacks, corruptions){}",
                                                  kind, did_you_mean(kind, kinds)));
  bool all = kind == "all";
  if (all || kind == "trainers") print_kind<Trainer>("trainers", out);
  if (all || kind == "models") print_kind<ClassifierImpl>("models", out);
  if (all || kind == "datasets") print_kind<DatasetSource>("datasets", out);
  if (all || kind == "attacks") print_kind<Attack>("attacks", out);
  if (all || kind == "corruptions") print_kind<Corruption>("corruptions", out);
  return 0;
}

int verify_data(const std::string& data_root, std::ostream& out) {
  DataContext ctx{resolve_data_root(data_root), 0};
  out << "data root: " << ctx.data_root << "\n";
  int bad = 0;
  for (const auto& [key, entry] : Registry<DatasetSource>::get().entries()) {
    auto node = parse_yaml_string("name: " + key, "<data verify>");
    auto source = entry.make(Config(node, "dataset"), ctx);
    for (const auto& check : source->verify()) {
      bool present = std::filesystem::exists(check.file);
      const char* status = check.ok ? "ok" : present ? "FAILED" : "missing";
      if (!check.ok && present) ++bad;
      out << fmt::format("{:<14} {:<8} {}  {}\n", key, status, check.file, check.detail);
    }
  }
  out << (bad ? fmt::format("{} file(s) failed verification\n", bad) : "all present files verified\n");
  return bad ? 1 : 0;
}

std::string format_accuracy_table(const CsvTable& table) {
  const auto& h = table.header();
  auto col = [&](const char* name) { return std::find(h.begin(), h.end(), name) - h.begin(); };
  auto m = col("model"), a = col("algorithm"), k = col("metric"), acc = col("accuracy"), d = col("dataset"),
       n = col("n");
  std::string s = fmt::format("{:<10} {:<8} {:<10} {:>9} {:>7}  {}\n", "model", "algo", "metric", "accuracy", "n",
                              "dataset");
  for (const auto& r : table.rows())
    s += fmt::format("{:<10} {:<8} {:<10} {:>8}% {:>7}  {}\n", r[m], r[a], r[k], r[acc], r[n], r[d]);
  return s;
}

std::string format_examples(const std::string& jsonl_path, int64_t n) {
  std::istringstream in(read_text(jsonl_path));
  std::string s, line;
  for (int64_t k = 0, line_no = 1; k < n && std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    try {
      auto e = nlohmann::json::parse(line);
      const auto original = e.at("original").get<std::vector<std::string>>();
      const auto adversarial = e.at("adversarial").get<std::vector<std::string>>();
      s += fmt::format("{} #{} label {} {}: p(label) {:.3f} -> {:.3f}, {} of {} words changed, {} queries\n",
                       e.at("threat").get<std::string>(), e.at("index").get<int64_t>(), e.at("label").get<int64_t>(),
                       e.at("success").get<bool>() ? "SUCCESS" : "failed", e.at("p_original").get<double>(),
                       e.at("p_adversarial").get<double>(), e.at("changed").size(), original.size(),
                       e.at("queries").get<int64_t>());
      std::string text;
      for (size_t i = 0; i < original.size() && i < adversarial.size(); ++i) {
        if (i) text += ' ';
        text += original[i] == adversarial[i] ? original[i] : "[" + original[i] + "->" + adversarial[i] + "]";
      }
      s += "  " + text + "\n\n";
      ++k;
    } catch (const nlohmann::json::exception& err) {
      throw Error(fmt::format("{}:{}: not an --examples record ({})", jsonl_path, line_no, err.what()), 1);
    }
  }
  return s;
}

namespace {

// The `gradcheck:` section is read only by `lrbench gradcheck`, so plan_run() cannot reject its typos.
lr::GradcheckSpec decode_gradcheck(const NodePtr& root) {
  auto section = Config(root, "").sub("gradcheck");
  auto spec = lr::GradcheckSpec::from(section);
  section.reject_unread_keys();
  return spec;
}

}  // namespace

int check_experiment(const NodePtr& root, std::ostream& out) {
  auto parts = plan_run(root);
  decode_gradcheck(root);
  out << to_yaml(root) << describe(parts.memory) << "\n# ok: spec_hash " << parts.spec.hash << "\n";
  return 0;
}

int run_gradcheck(const NodePtr& root, const std::string& out_csv, std::ostream& out) {
  RunParts p = plan_run(root);
  auto spec = decode_gradcheck(root);
  materialize(p);
  auto device = pick_device(p.spec.device);
  const auto& train = p.dataset->train();
  auto n = std::min<int64_t>(spec.batch_size, train.size());
  Batch batch = (train.modality == Modality::kGraph ? train : train.rows(torch::arange(n))).to(device);
  auto gen = make_generator(derive_seed(p.spec.seed, "gradcheck"), device);
  auto table = lr::gradcheck(*p.model, *p.trainer, batch, spec, gen);
  const std::string path = out_csv.empty() ? "runs/" + p.spec.name + "/gradcheck.csv" : out_csv;
  table.save(path);
  // Mean cosine per layer at each copy count: the curve a user reads first.
  const auto& h = table.header();
  auto col = [&](const char* c) { return std::find(h.begin(), h.end(), c) - h.begin(); };
  auto layer = col("layer"), copies = col("copies"), cosine = col("cosine");
  std::map<std::pair<std::string, int64_t>, std::pair<double, int>> mean;
  for (const auto& r : table.rows()) {
    auto& m = mean[{r[layer], std::stoll(r[copies])}];
    m.first += std::stod(r[cosine]), m.second += 1;
  }
  out << fmt::format("{:<8} {:>7} {:>8}\n", "layer", "copies", "cosine");
  for (const auto& [k, v] : mean) out << fmt::format("{:<8} {:>7} {:>8.4f}\n", k.first, k.second, v.first / v.second);
  out << "-> " << path << "\n";
  return 0;
}

}  // namespace lrb
