#include "reports/gather.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <tuple>

#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/selection_split_name.h"
#include "reports/plot.h"

namespace lrb::report_detail {

namespace fs = std::filesystem;

namespace {

std::string cell_name(const fs::path& eval_file, const fs::path& root) {
  fs::path cell = eval_file.parent_path().parent_path();
  std::error_code ec;
  auto rel = fs::relative(cell, root, ec);
  std::string s = ec ? cell.string() : rel.generic_string();
  return s.empty() || s == "." ? cell.filename().string() : s;
}

// A row's commit as the provenance lists it; rows written before eval recorded commits have none.
std::string commit_of(const EvalRow& r) { return r.git_commit.empty() ? "(unknown)" : r.git_commit; }

// Every commit that wrote a row of `file`, for the report's provenance.
void record_commits(Gathered& g, const fs::path& file, const std::vector<EvalRow>& rows) {
  for (const auto& r : rows) g.file_commits[file.string()].insert(commit_of(r));
}

void add_seconds(std::optional<double>& total, const std::vector<EvalRow>& rows) {
  for (const auto& r : rows)
    if (r.seconds) total = total.value_or(0) + *r.seconds;
}

void read_training_time(const fs::path& cell_dir, CellTime& t) {
  const fs::path metrics = cell_dir / "metrics.csv";
  if (!fs::exists(metrics)) return;
  const std::string file = metrics.string();
  CsvTable m = CsvTable::load(file);
  size_t sec = column(m, file, "seconds");
  column(m, file, "epoch");
  t.train = 0;
  for (size_t i = 0; i < m.rows().size(); ++i) *t.train += number(m.rows()[i][sec], file, i, "seconds");
  t.epochs = m.rows().size();
}

// The scalar at a dotted key of a parsed config, or null.
NodePtr scalar_at(NodePtr n, const std::string& key) {
  for (size_t start = 0; n && start <= key.size();) {
    const size_t dot = std::min(key.find('.', start), key.size());
    n = n->kind == ConfigNode::Kind::kMap ? n->get(key.substr(start, dot - start)) : nullptr;
    start = dot + 1;
  }
  return n && n->kind == ConfigNode::Kind::kScalar ? n : nullptr;
}

// What a run's config.resolved.yaml says that the report prints beside its numbers: the spec's protocol keys (or
// their defaults) and, with a schedule, the run's share of it; under the run's model and algorithm.
void read_run_config(const ReportSpec& spec, const fs::path& run_dir, const std::string& algorithm,
                     const std::string& model, bool budget, Gathered& g) {
  const fs::path cfg = run_dir / "config.resolved.yaml";
  if ((spec.protocol.empty() && !spec.schedule) || !fs::exists(cfg)) return;
  NodePtr root;
  try {
    root = parse_yaml_file(cfg.string());
  } catch (const std::exception&) {
    return;  // provenance only: the eval rows are what the table is made of
  }
  for (const auto& pc : spec.protocol) {
    const NodePtr n = scalar_at(root, pc.key);
    if (n || !pc.fallback.empty()) g.protocol[pc.key][n ? n->scalar : pc.fallback].insert({algorithm, model});
  }
  if (!spec.schedule || !budget) return;
  // Epochs, and per epoch the examples max_steps batches leave of the schedule's (a graph: full batch, all).
  auto integer = [&](const std::string& key, int64_t fallback) -> int64_t {
    const NodePtr n = scalar_at(root, key);
    try {
      return n ? std::stoll(n->scalar) : fallback;
    } catch (const std::exception&) {
      return fallback;
    }
  };
  const int64_t epochs = integer("train.epochs", 0), max_steps = integer("train.max_steps", 0),
                batch = integer("train.batch_size", 0), limit = integer("dataset.limit_train", 0),
                n = spec.schedule->train_examples;
  if (epochs <= 0) return;
  double per_epoch = 1;  // share of the schedule's examples one epoch sees: dataset.limit_train, then max_steps
  if (n > 0) {
    double seen = static_cast<double>(limit > 0 ? std::min(limit, n) : n);
    if (max_steps > 0 && batch > 0) seen = std::min(seen, static_cast<double>(max_steps) * static_cast<double>(batch));
    per_epoch = seen / static_cast<double>(n);
  }
  const double share = static_cast<double>(epochs) * per_epoch / static_cast<double>(spec.schedule->epochs);
  g.budget[{model, algorithm}].insert({share, std::max<int64_t>(1, integer("trainer.copies_divisor", 1))});
}

}  // namespace

std::vector<std::string> protocol_lines(const ReportSpec& spec, const Gathered& g) {
  std::vector<std::string> out;
  for (const auto& pc : spec.protocol) {
    auto it = g.protocol.find(pc.key);
    if (it == g.protocol.end()) continue;
    std::map<std::string, std::set<std::string>> models_of;  // algorithm -> its models under any value
    for (const auto& [value, pairs] : it->second)
      for (const auto& [alg, model] : pairs) models_of[alg].insert(model);
    std::vector<std::string> shown;
    for (const auto& [value, pairs] : it->second) {
      std::map<std::string, std::set<std::string>> here;
      for (const auto& [alg, model] : pairs) here[alg].insert(model);
      std::vector<std::string> who;
      for (const auto& [alg, models] : here)
        who.push_back(models == models_of[alg] ? alg : fmt::format("{} on {}", alg, fmt::join(models, ", ")));
      shown.push_back(fmt::format("{} ({})", value, fmt::join(who, "; ")));
    }
    out.push_back(fmt::format("{} ({}): {}", pc.what, pc.key, fmt::join(shown, " | ")));
  }
  return out;
}

std::string join(const std::set<std::string>& s, const char* sep) { return fmt::format("{}", fmt::join(s, sep)); }

// Index in the spec's print order; names the spec does not list sort after it.
size_t rank(const std::vector<std::string>& order, const std::string& name) {
  auto it = std::find(order.begin(), order.end(), name);
  return it == order.end() ? order.size() : static_cast<size_t>(it - order.begin());
}

std::string signed_fixed(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", std::fabs(v), decimals);
  if (s.find_first_not_of("0.") == std::string::npos) return "±" + s;
  return (v < 0 ? "−" : "+") + s;
}
std::string signed1(double v) { return signed_fixed(v, 1); }

// Two decimals; a difference that rounds to zero prints as 0.00, never -0.00.
std::string fixed2(double v) {
  std::string s = fmt::format("{:.2f}", v);
  return s == "-0.00" ? "0.00" : s;
}


std::string opt_seconds(const std::optional<double>& s) { return s ? fmt::format("{:.1f}", *s) : "—"; }

namespace {
double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}
}  // namespace

const char* const kTextAttackSummaryNote =
    "Means over seeds. Success rate: of the examples the model got right (the others are skipped, as TextAttack "
    "does), the share the attack turned, or, for an attack run on every example (attacked=all in its threat_params: "
    "the openattack preset), OpenAttack's count: successes over all examples, a misclassified article counting as a "
    "success unless the attack gave up on it; 1 − ASR: OpenAttack's robustness figure, for those rows only; words "
    "changed: the share of an article's words a successful attack substituted; queries: model queries per attacked "
    "example.";

std::vector<TextAttackRow> text_attack_rows(const ReportSpec& spec, const Gathered& g) {
  std::vector<TextAttackRow> rows;
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms)
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        if (it == g.cells.end() || it->second.success_rate.empty()) continue;
        const auto& cell = it->second;
        rows.push_back({m, a, c, stats(cell).mean, mean_of(cell.success_rate), mean_of(cell.words_changed_pct),
                        mean_of(cell.queries_per_example)});
        const bool all = !cell.params.empty() && std::all_of(cell.params.begin(), cell.params.end(), [](const auto& p) {
          return (";" + p + ";").find(";attacked=all;") != std::string::npos;
        });
        if (all) rows.back().one_minus_asr = 100 - rows.back().success_rate;
      }
  return rows;
}

std::vector<std::string> dirty_commits(const Gathered& g) {
  std::set<std::string> out;
  for (const auto& [key, cell] : g.cells)
    for (const auto& c : cell.commits)
      if (c.size() > 6 && c.compare(c.size() - 6, 6, "-dirty") == 0) out.insert(c);
  return {out.begin(), out.end()};
}

Stats stats(const Cell& c) {
  Stats s;
  s.seeds = c.acc.size();
  for (double a : c.acc) s.mean += a;
  s.mean /= static_cast<double>(s.seeds);
  if (s.seeds >= 2) {
    double ss = 0;
    for (double a : c.acc) ss += (a - s.mean) * (a - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(s.seeds - 1));
  }
  return s;
}

std::optional<double> mean_of(const Gathered& g, const Key& cell) {
  auto it = g.cells.find(cell);
  return it == g.cells.end() || it->second.acc.empty() ? std::nullopt : std::optional<double>(stats(it->second).mean);
}

double min_examples(const Cell& c) {
  double n = 0;
  for (const auto& s : c.ns) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && v > 0 && (n == 0 || v < n)) n = v;
  }
  return n;
}

// "0:71.20 1:70.55 2:72.00": every seed's value, in numeric seed order, so a reader (tools/update_expected.sh,
// a user judging the spread) needs no second pass over the runs.
std::string per_seed(const Cell& c) {
  std::vector<std::pair<std::string, double>> v;
  for (size_t i = 0; i < c.acc.size(); ++i) v.emplace_back(c.acc_seed[i], c.acc[i]);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
  });
  std::string s;
  for (const auto& [seed, a] : v) s += (s.empty() ? "" : " ") + seed + ":" + fixed2(a);
  return s;
}

// A table row's algorithm: the spec's name, or for transfer results "LR (transfer from BP)".
std::string row_label(const std::string& algorithm, const std::string& mode) {
  return mode == "white-box" ? algorithm : algorithm + " (" + mode + ")";
}
// White-box rows in the spec's order, then the same algorithms under each transfer mode found.
std::vector<std::string> swept_settings(const ReportSpec& spec, const Gathered& g) {
  std::set<std::string> found;
  for (const auto& s : g.sweep) found.insert(s.param);
  std::vector<std::string> out;
  if (found.erase(spec.sweep_param)) out.push_back(spec.sweep_param);
  out.insert(out.end(), found.begin(), found.end());
  return out;
}

std::vector<RowAlg> row_algorithms(const ReportSpec& spec, const Gathered& g) {
  std::vector<RowAlg> out;
  for (const auto& a : spec.algorithms) out.push_back({a, a, "white-box"});
  for (const auto& a : spec.controls) out.push_back({a, a, "white-box"});
  for (const auto& mode : g.transfer_modes)
    for (const auto& a : spec.algorithms) out.push_back({row_label(a, mode), a, mode});
  return out;
}

std::string paper_mode(const ReportSpec& spec, const std::string& mode) {
  for (const char* prefix : {"transfer from ", "matched to "}) {
    const std::string pre = prefix;
    if (mode.rfind(pre, 0) != 0) continue;
    // "transfer from BP, noise on: ...": the algorithm is the name up to the first comma.
    const auto end = mode.find(',', pre.size());
    const auto name = mode.substr(pre.size(), end == std::string::npos ? std::string::npos : end - pre.size());
    if (auto it = spec.algorithm_names.find(name); it != spec.algorithm_names.end())
      return pre + it->second + (end == std::string::npos ? "" : mode.substr(end));
  }
  return mode;
}

bool has_mode(const Gathered& g, const std::string& prefix) {
  return std::any_of(g.transfer_modes.begin(), g.transfer_modes.end(),
                     [&](const std::string& m) { return m.rfind(prefix, 0) == 0; });
}

const char* const kMatchedRowsNote =
    "Rows \"BP (matched to ALG)\": the BP run's snapshot (train.snapshot_every) whose clean accuracy is nearest ALG's "
    "final model of the same seed on the selection split (the dataset's validation split, else the last test "
    "examples, which a suite scoring fewer than the rest of the test set does not score), within 2 pp, evaluated under "
    "the same threats (lrbench eval BP_RUN --match "
    "ALG_RUN): robustness at matched clean accuracy, where a less accurate model cannot look robust for that reason "
    "alone. A cell without such a row had no snapshot within 2 pp (RUN/eval/<suite>.matched-<trainer>.json says "
    "which came nearest, the split, and how many of the scored examples it holds).";

fs::path runs_root(const ReportSpec& spec, const ReportOptions& opt) {
  return opt.runs_dir.empty() ? fs::path("runs") / spec.name : fs::path(opt.runs_dir);
}

namespace {

// A matched row's choice (RUN/eval/<suite>.matched-<trainer>.json beside its CSV): which split it was made on, and
// how many of the examples `rows` are scored on that split holds. Older records without the file say nothing.
void read_matched_choice(const fs::path& csv, const std::vector<EvalRow>& rows, const std::string& model,
                         const std::string& row, Gathered& g) {
  std::string stem = csv.stem().string();  // <suite>.matched-<trainer>[.noise]
  if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, ".noise") == 0) stem.resize(stem.size() - 6);
  const fs::path json = csv.parent_path() / (stem + ".json");
  if (!fs::exists(json)) return;
  const auto j = nlohmann::json::parse(read_text(json.string()), nullptr, false);
  if (!j.is_object() || !j.contains("split") || !j["split"].is_string()) return;
  int64_t scored = 0;
  for (const auto& r : rows) scored = std::max<int64_t>(scored, std::atoll(r.n.c_str()));
  const auto split = j["split"].get<std::string>();
  if (const auto k = split_overlap(split, scored); k && *k > 0) g.matched_overlap[{model, row}] = {split, *k, scored};
}

// The eval files' part of gather().
Gathered gather_evals(const ReportSpec& spec, const fs::path& root, std::vector<std::string>& notes) {
  Gathered g;
  g.root = root;
  g.found = find_eval_files(g.root, spec.suite);
  if (!g.found.unfinished.empty())
    notes.push_back(fmt::format("left out {} run(s) that have not finished (only finished runs count): {}",
                                g.found.unfinished.size(), fmt::join(g.found.unfinished, ", ")));
  if (g.found.suite.empty() && !g.found.unfinished.empty())
    throw DataError(fmt::format("{}: every run with an eval/{}.csv has not finished ({}); only finished runs count",
                                g.root.string(), spec.suite, fmt::join(g.found.unfinished, ", ")));
  if (g.found.suite.empty())
    throw DataError(fmt::format("{}: no eval/{}.csv found; run `lrbench eval RUN --suite {}` first (or make {})",
                                g.root.string(), spec.suite, spec.suite, spec.name));
  for (const auto& file : g.found.suite) {
    const auto rows = read_eval(file);
    record_commits(g, file, rows);
    auto& t = g.times[cell_name(file, g.root)];
    add_seconds(t.eval, rows);
    read_training_time(file.parent_path().parent_path(), t);
    bool protocol_read = false;  // once per run, for a run the table keeps
    bool choice_read = false;    // once per matched file: one choice, one row label
    for (auto r : rows) {
      if (auto it = spec.algorithm_names.find(r.algorithm); it != spec.algorithm_names.end()) r.algorithm = it->second;
      r.mode = paper_mode(spec, r.mode);
      if (rank(spec.models, r.model) == spec.models.size() ||
          (rank(spec.algorithms, r.algorithm) == spec.algorithms.size() &&
           rank(spec.controls, r.algorithm) == spec.controls.size()) ||
          rank(spec.columns, r.metric) == spec.columns.size()) {
        g.ignored.insert(fmt::format("{}/{}/{}", r.model, r.algorithm, r.metric));
        continue;
      }
      // A matched row's run is the BP run whose snapshot, not whose final model, it scores: no budget from it.
      if (!protocol_read)
        read_run_config(spec, file.parent_path().parent_path(), r.algorithm, r.model, r.mode.rfind("matched", 0) != 0, g);
      protocol_read = true;
      if (r.mode != "white-box") g.transfer_modes.insert(r.mode);
      if (r.mode.rfind("matched", 0) == 0 && !choice_read)
        read_matched_choice(file, rows, r.model, row_label(r.algorithm, r.mode), g);
      choice_read = choice_read || r.mode.rfind("matched", 0) == 0;
      auto& cell = g.cells[Key{r.model, row_label(r.algorithm, r.mode), r.metric}];
      auto [it, fresh] = cell.seed_file.emplace(r.seed, file.string());
      // Two results for one seed mean RUNS_DIR spans two experiments; averaging them would hide it.
      if (!fresh)
        throw DataError(fmt::format("{}: {}/{}/{} seed {} is also in {}; point RUNS_DIR at one experiment",
                                    file.string(), r.model, r.algorithm, r.metric, r.seed, it->second));
      cell.acc.push_back(r.accuracy), cell.acc_seed.push_back(r.seed);
      cell.ns.insert(r.n), cell.datasets.insert(r.dataset), cell.params.insert(r.threat_params);
      cell.commits.insert(commit_of(r));
      if (r.zero_grad) cell.zero_grad_examples += *r.zero_grad, cell.grad_examples += *r.grad_n;
      if (r.attack_success_rate) cell.success_rate.push_back(*r.attack_success_rate);
      if (r.words_changed_pct) cell.words_changed_pct.push_back(*r.words_changed_pct);
      if (r.queries_per_example) cell.queries_per_example.push_back(*r.queries_per_example);
    }
  }
  if (!g.ignored.empty())
    notes.push_back(fmt::format("ignored results not listed in the report's models/algorithms/columns: {}",
                                join(g.ignored, ", ")));
  if (g.found.sweep.empty()) return g;
  if (spec.sweep_param.empty()) {
    notes.push_back(fmt::format("{} {}.sweep.csv file(s) ignored: the report has no `sweep:` key",
                                g.found.sweep.size(), spec.suite));
    return g;
  }
  size_t skipped = 0;
  struct Mean {
    std::vector<double> acc;
    std::set<std::string> values, ns, datasets, commits;
  };
  std::map<std::tuple<Key, std::string, std::string>, Mean> means;  // (cell, seed, file)
  for (const auto& file : g.found.sweep) {
    const auto rows = read_eval(file);
    record_commits(g, file, rows);
    add_seconds(g.times[cell_name(file, g.root)].sweep, rows);
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      const std::string& param = spec.sweep_param_of(r.metric);
      auto v = report_detail::threat_param(r.threat_params, param);
      if (!v) {
        ++skipped;
        continue;
      }
      auto base = spec.algorithm_names.count(r.algorithm) ? spec.algorithm_names.at(r.algorithm) : r.algorithm;
      const auto mode = paper_mode(spec, r.mode);
      auto alg = row_label(base, mode);
      if (mode != "white-box") g.transfer_modes.insert(mode);
      g.sweep.push_back({r.model, alg, r.metric, param, *v, number(*v, file.string(), i, "threat_params"),
                         r.accuracy, r.seed});
      if (rank(spec.sweep_mean, r.metric) < spec.sweep_mean.size() && rank(spec.models, r.model) < spec.models.size() &&
          (rank(spec.algorithms, base) < spec.algorithms.size() || rank(spec.controls, base) < spec.controls.size())) {
        auto& m = means[{Key{r.model, alg, r.metric}, r.seed, file.string()}];
        m.acc.push_back(r.accuracy), m.values.insert(*v);
        m.ns.insert(r.n), m.datasets.insert(r.dataset), m.commits.insert(commit_of(r));
      }
    }
  }
  // One value per run and seed: the mean over its sweep rows (Table 3: over the ten edge rates).
  for (const auto& [id, m] : means) {
    const auto& [key, seed, file] = id;
    auto& cell = g.cells[key];
    auto [it, fresh] = cell.seed_file.emplace(seed, file);
    if (!fresh)
      throw DataError(fmt::format("{}: {}/{}/{} seed {} is also in {}; point RUNS_DIR at one experiment", file,
                                  std::get<0>(key), std::get<1>(key), std::get<2>(key), seed, it->second));
    cell.acc.push_back(std::accumulate(m.acc.begin(), m.acc.end(), 0.0) / static_cast<double>(m.acc.size()));
    cell.acc_seed.push_back(seed);
    cell.params.insert(
        fmt::format("mean over {} {}: {}", m.acc.size(), spec.sweep_param_of(std::get<2>(key)), join(m.values, " ")));
    cell.ns.insert(m.ns.begin(), m.ns.end()), cell.datasets.insert(m.datasets.begin(), m.datasets.end());
    cell.commits.insert(m.commits.begin(), m.commits.end());
  }
  if (skipped) notes.push_back(fmt::format("{} sweep row(s) without their swept setting ('{}'{}) in threat_params skipped",
                                           skipped, spec.sweep_param, spec.sweep_params.empty() ? "" : " or sweep_params'"));
  std::stable_sort(g.sweep.begin(), g.sweep.end(), [&](const SweepSample& a, const SweepSample& b) {
    auto key = [&](const SweepSample& s) {
      return std::make_tuple(rank(spec.models, s.model), s.model, rank(spec.algorithms, s.algorithm), s.algorithm,
                             rank(spec.columns, s.metric), s.metric, s.x);
    };
    return key(a) < key(b);
  });
  return g;
}

}  // namespace

Gathered gather(const ReportSpec& spec, const fs::path& root, std::vector<std::string>& notes) {
  Gathered g = gather_evals(spec, root, notes);
  g.paper = load_paper(spec.paper_csv);
  return g;
}

// What the transfer rows show: per model, algorithm and transfer mode, the mean over the columns that have both
// a white-box and a transfer result, and which attack was the stronger one.
std::vector<std::string> transfer_findings(const ReportSpec& spec, const Gathered& g) {
  std::vector<std::string> out;
  for (const auto& m : spec.models)
    for (const auto& mode : g.transfer_modes)
      for (const auto& a : spec.algorithms) {
        if (mode.rfind("transfer", 0) != 0) continue;  // "noise on: ..." rows are white-box
        double white = 0, transfer = 0;
        int n = 0;
        for (const auto& c : spec.columns) {
          auto w = g.cells.find(Key{m, a, c}), t = g.cells.find(Key{m, row_label(a, mode), c});
          if (w == g.cells.end() || t == g.cells.end()) continue;
          white += stats(w->second).mean, transfer += stats(t->second).mean, ++n;
        }
        if (n == 0) continue;
        white /= n, transfer /= n;
        const char* verdict = transfer < white - 1 ? "the transfer attack is stronger, so the white-box gradient "
                                                     "understates this model's weakness (gradient masking)"
                              : transfer > white + 1 ? "the white-box attack is stronger: no sign of gradient masking"
                                                     : "the two agree within 1 point";
        out.push_back(fmt::format("{} {}: {:.1f} % under white-box attacks, {:.1f} % {} (mean over {} column(s)): {}.",
                                  m, a, white, transfer, mode, n, verdict));
      }
  return out;
}

}  // namespace lrb::report_detail
