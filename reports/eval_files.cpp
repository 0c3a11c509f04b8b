#include "reports/eval_files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace lrb::report_detail {

namespace fs = std::filesystem;

size_t column(const CsvTable& t, const std::string& file, const std::string& name) {
  const auto& h = t.header();
  auto it = std::find(h.begin(), h.end(), name);
  if (it == h.end())
    throw DataError(fmt::format("{}: missing column '{}' (has: {})", file, name, fmt::join(h, ",")));
  return static_cast<size_t>(it - h.begin());
}

double number(const std::string& s, const std::string& file, size_t row, const std::string& col) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);  // locale-proof, unlike strtod
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    throw DataError(fmt::format("{}:{}: column '{}': '{}' is not a number", file, row + 2, col, s));  // +2: header
  return v;
}

std::vector<EvalRow> read_eval(const fs::path& path) {
  const std::string file = path.string();
  CsvTable t = CsvTable::load(file);
  std::map<std::string, size_t> c;
  for (const char* name : {"model", "algorithm", "metric", "accuracy", "dataset", "seed", "n", "git_commit",
                           "threat_params"})
    c[name] = column(t, file, name);
  // Eval files written before per-threat timing have no seconds; the time table shows "—" for them.
  const auto& h = t.header();
  const bool has_seconds = std::find(h.begin(), h.end(), "seconds") != h.end();
  const size_t sec = has_seconds ? column(t, file, "seconds") : 0;
  // Files written before transfer mode have no mode column: all their rows are white-box.
  const bool has_mode = std::find(h.begin(), h.end(), "mode") != h.end();
  const size_t mode = has_mode ? column(t, file, "mode") : 0;
  // Files written before the masking checks have no zero_grad column.
  const bool has_zero_grad = std::find(h.begin(), h.end(), "zero_grad") != h.end();
  const size_t zero_grad = has_zero_grad ? column(t, file, "zero_grad") : 0;
  const bool has_grad_n = std::find(h.begin(), h.end(), "grad_n") != h.end();
  const size_t grad_n = has_grad_n ? column(t, file, "grad_n") : 0;
  std::vector<EvalRow> out;
  for (size_t i = 0; i < t.rows().size(); ++i) {
    const auto& r = t.rows()[i];
    EvalRow e;
    e.model = r[c["model"]], e.algorithm = r[c["algorithm"]], e.metric = r[c["metric"]];
    e.dataset = r[c["dataset"]], e.seed = r[c["seed"]], e.n = r[c["n"]];
    e.git_commit = r[c["git_commit"]], e.threat_params = r[c["threat_params"]];
    e.mode = has_mode && !r[mode].empty() ? r[mode] : "white-box";
    e.accuracy = number(r[c["accuracy"]], file, i, "accuracy");
    if (e.accuracy < 0 || e.accuracy > 100)
      throw DataError(fmt::format("{}:{}: column 'accuracy': {} is not a percentage in [0, 100]; the file is damaged or "
                                  "not an lrbench eval CSV (run lrbench eval again)",
                                  file, i + 2, r[c["accuracy"]]));
    if (has_seconds && !r[sec].empty()) e.seconds = number(r[sec], file, i, "seconds");
    if (has_zero_grad && !r[zero_grad].empty()) {
      const double z = number(r[zero_grad], file, i, "zero_grad"), n = number(e.n, file, i, "n");
      if (z < 0 || z > n || z != static_cast<int64_t>(z))
        throw DataError(fmt::format("{}:{}: column 'zero_grad': {} is not a count of the row's {} examples", file, i + 2,
                                    r[zero_grad], e.n));
      e.zero_grad = static_cast<int64_t>(z);
      // Examples whose gradient was taken: grad_n where written, else (older files) every example of the row.
      const double g = has_grad_n && !r[grad_n].empty() ? number(r[grad_n], file, i, "grad_n") : n;
      if (g < z || g > n || g != static_cast<int64_t>(g))
        throw DataError(fmt::format("{}:{}: column 'grad_n': {} is not a count between zero_grad {} and n {}", file,
                                    i + 2, g, r[zero_grad], e.n));
      e.grad_n = static_cast<int64_t>(g);
    }
    for (auto [name, field] : {std::pair{"attack_success_rate", &e.attack_success_rate},
                               std::pair{"words_changed_pct", &e.words_changed_pct},
                               std::pair{"queries_per_example", &e.queries_per_example}})
      if (auto it = std::find(h.begin(), h.end(), name); it != h.end() && !r[it - h.begin()].empty())
        *field = number(r[it - h.begin()], file, i, name);
    out.push_back(std::move(e));
  }
  return out;
}

namespace {
// run.json's status ("" without a readable run.json).
std::string run_status(const fs::path& run_dir) {
  std::ifstream f(run_dir / "run.json");
  if (!f) return "";
  auto j = nlohmann::json::parse(f, nullptr, false);
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) return "";  // unreadable: as if missing
  return j["status"].get<std::string>();
}
}  // namespace

Found find_eval_files(const fs::path& root, const std::string& suite) {
  Found f;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return f;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->path().parent_path().filename() != "eval") continue;
    const auto name = it->path().filename().string();
    // <suite>[.transfer][.noise].csv, <suite>.matched-<trainer>[.noise].csv and the .sweep.csv of each (lrbench eval
    // --source, --match, eval.noise: on)
    std::vector<std::string> variants = {"", ".transfer", ".noise", ".transfer.noise"};
    if (const std::string m = suite + ".matched-"; name.rfind(m, 0) == 0) {
      const auto trainer = name.substr(m.size(), name.find('.', m.size()) - m.size());
      if (!trainer.empty()) variants = {".matched-" + trainer, ".matched-" + trainer + ".noise"};
    }
    for (const auto& variant : variants) {
      const bool main = name == suite + variant + ".csv", sweep = name == suite + variant + ".sweep.csv";
      if (!main && !sweep) continue;
      if (!it->is_regular_file(ec))
        throw DataError(fmt::format("{}: not a regular file (a directory or a special file where lrbench eval writes "
                                    "its results); remove it and run lrbench eval again",
                                    it->path().string()));
      const auto status = run_status(it->path().parent_path().parent_path());
      if (!status.empty() && status != "finished") {
        f.unfinished.push_back(fmt::format("{} (status {})", it->path().parent_path().parent_path().string(), status));
        continue;
      }
      (main ? f.suite : f.sweep).push_back(it->path());
    }
  }
  std::sort(f.unfinished.begin(), f.unfinished.end());
  f.unfinished.erase(std::unique(f.unfinished.begin(), f.unfinished.end()), f.unfinished.end());
  std::sort(f.suite.begin(), f.suite.end());
  std::sort(f.sweep.begin(), f.sweep.end());
  return f;
}

std::map<Key, PaperValue> load_paper(const std::string& path) {
  std::map<Key, PaperValue> out;
  if (path.empty()) return out;
  if (!fs::exists(path)) throw DataError(fmt::format("{}: paper CSV not found (the report's `paper:` key)", path));
  CsvTable t = CsvTable::load(path);
  size_t m = column(t, path, "model"), a = column(t, path, "algorithm"), k = column(t, path, "metric"),
         v = column(t, path, "accuracy");
  for (size_t i = 0; i < t.rows().size(); ++i) {
    const auto& r = t.rows()[i];
    out[{r[m], r[a], r[k]}] = PaperValue{r[v], number(r[v], path, i, "accuracy")};
  }
  return out;
}

}  // namespace lrb::report_detail
