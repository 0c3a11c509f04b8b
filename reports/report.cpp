#include "reports/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "reports/eval_files.h"
#include "reports/plot.h"

namespace lrb {

namespace fs = std::filesystem;
using namespace report_detail;

namespace {

// All results of one (model, algorithm, metric): one entry per seed.
struct Cell {
  std::vector<double> acc;
  std::vector<std::string> acc_seed;  // the seed of each acc entry (the long CSV's per_seed column)
  std::map<std::string, std::string> seed_file;
  std::set<std::string> ns, datasets, params, commits;
};

std::string join(const std::set<std::string>& s, const char* sep) { return fmt::format("{}", fmt::join(s, sep)); }

std::string cell_name(const fs::path& eval_file, const fs::path& root) {
  fs::path cell = eval_file.parent_path().parent_path();
  std::error_code ec;
  auto rel = fs::relative(cell, root, ec);
  std::string s = ec ? cell.string() : rel.generic_string();
  return s.empty() || s == "." ? cell.filename().string() : s;
}

struct CellTime {
  std::optional<double> eval, sweep, train;
  std::optional<size_t> epochs;
};

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

// Index in the spec's print order; names the spec does not list sort after it.
size_t rank(const std::vector<std::string>& order, const std::string& name) {
  auto it = std::find(order.begin(), order.end(), name);
  return it == order.end() ? order.size() : static_cast<size_t>(it - order.begin());
}

std::string signed1(double v) {
  std::string s = fmt::format("{:.1f}", std::fabs(v));
  if (s == "0.0") return "±0.0";
  return (v < 0 ? "−" : "+") + s;
}

// Two decimals; a difference that rounds to zero prints as 0.00, never -0.00.
std::string fixed2(double v) {
  std::string s = fmt::format("{:.2f}", v);
  return s == "-0.00" ? "0.00" : s;
}

std::string opt_seconds(const std::optional<double>& s) { return s ? fmt::format("{:.1f}", *s) : "—"; }

}  // namespace

ReportSpec ReportSpec::load(const std::string& yaml_path) {
  Config c(parse_yaml_file(yaml_path), "");
  ReportSpec s;
  s.name = fs::path(yaml_path).stem().string();
  s.title = c.require<std::string>("title");
  s.suite = c.require<std::string>("suite");
  s.models = c.require<std::vector<std::string>>("models");
  s.algorithms = c.require<std::vector<std::string>>("algorithms");
  s.columns = c.require<std::vector<std::string>>("columns");
  if (c.read("paper", s.paper_csv) && fs::path(s.paper_csv).is_relative())
    s.paper_csv = (fs::path(yaml_path).parent_path() / s.paper_csv).lexically_normal().string();
  c.read("sweep", s.sweep_param);
  c.read("sweep_mean", s.sweep_mean);
  for (const auto& m : s.sweep_mean) {
    if (s.sweep_param.empty()) c.fail("sweep_mean", "needs the sweep key (the parameter averaged over)", "sweep: rate", m);
    if (std::find(s.columns.begin(), s.columns.end(), m) == s.columns.end())
      c.fail("sweep_mean", "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")), m);
  }
  c.read("notes", s.notes);
  auto names = c.sub("algorithm_names");
  for (const auto& ours : names.keys()) {
    auto& paper = s.algorithm_names[ours];
    names.read(ours, paper);
    if (std::find(s.algorithms.begin(), s.algorithms.end(), paper) == s.algorithms.end())
      names.fail(ours, "not one of the report's algorithms", fmt::format("one of {}", fmt::join(s.algorithms, ", ")), paper);
  }
  for (const char* key : {"models", "algorithms", "columns"}) {
    std::vector<std::string> v;
    c.read(key, v);
    if (v.empty()) c.fail(key, "empty list", "at least one name");
  }
  c.reject_unread_keys();
  return s;
}

namespace {

struct Stats {
  double mean = 0;
  std::optional<double> std;  // sample std, only with >= 2 seeds
  size_t seeds = 0;
};

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

// Everything gathered from RUNS_DIR, before formatting.
struct Gathered {
  fs::path root;
  Found found;
  std::map<Key, Cell> cells;
  std::map<std::string, CellTime> times;
  std::set<std::string> ignored;  // model/algorithm/metric names the spec does not list
  std::vector<SweepSample> sweep;
  std::set<std::string> transfer_modes;  // "transfer from BP", ... (lrbench eval --source)
};

// A table row's algorithm: the spec's name, or for transfer results "LR (transfer from BP)".
std::string row_label(const std::string& algorithm, const std::string& mode) {
  return mode == "white-box" ? algorithm : algorithm + " (" + mode + ")";
}
struct RowAlg {
  std::string label, algorithm, mode;
};
// White-box rows in the spec's order, then the same algorithms under each transfer mode found.
std::vector<RowAlg> row_algorithms(const ReportSpec& spec, const Gathered& g) {
  std::vector<RowAlg> out;
  for (const auto& a : spec.algorithms) out.push_back({a, a, "white-box"});
  for (const auto& mode : g.transfer_modes)
    for (const auto& a : spec.algorithms) out.push_back({row_label(a, mode), a, mode});
  return out;
}

void gather(const ReportSpec& spec, Gathered& g, std::vector<std::string>& notes) {
  for (const auto& file : g.found.suite) {
    const auto rows = read_eval(file);
    auto& t = g.times[cell_name(file, g.root)];
    add_seconds(t.eval, rows);
    read_training_time(file.parent_path().parent_path(), t);
    for (auto r : rows) {
      if (auto it = spec.algorithm_names.find(r.algorithm); it != spec.algorithm_names.end()) r.algorithm = it->second;
      if (rank(spec.models, r.model) == spec.models.size() ||
          rank(spec.algorithms, r.algorithm) == spec.algorithms.size() ||
          rank(spec.columns, r.metric) == spec.columns.size()) {
        g.ignored.insert(fmt::format("{}/{}/{}", r.model, r.algorithm, r.metric));
        continue;
      }
      if (r.mode != "white-box") g.transfer_modes.insert(r.mode);
      auto& cell = g.cells[Key{r.model, row_label(r.algorithm, r.mode), r.metric}];
      auto [it, fresh] = cell.seed_file.emplace(r.seed, file.string());
      // Two results for one seed mean RUNS_DIR spans two experiments; averaging them would hide it.
      if (!fresh)
        throw DataError(fmt::format("{}: {}/{}/{} seed {} is also in {}; point RUNS_DIR at one experiment",
                                    file.string(), r.model, r.algorithm, r.metric, r.seed, it->second));
      cell.acc.push_back(r.accuracy), cell.acc_seed.push_back(r.seed);
      cell.ns.insert(r.n), cell.datasets.insert(r.dataset), cell.params.insert(r.threat_params);
      cell.commits.insert(r.git_commit.empty() ? "(unknown)" : r.git_commit);
    }
  }
  if (!g.ignored.empty())
    notes.push_back(fmt::format("ignored results not listed in the report's models/algorithms/columns: {}",
                                join(g.ignored, ", ")));
  if (g.found.sweep.empty()) return;
  if (spec.sweep_param.empty()) {
    notes.push_back(fmt::format("{} {}.sweep.csv file(s) ignored: the report has no `sweep:` key",
                                g.found.sweep.size(), spec.suite));
    return;
  }
  size_t skipped = 0;
  struct Mean {
    std::vector<double> acc;
    std::set<std::string> values, ns, datasets, commits;
  };
  std::map<std::tuple<Key, std::string, std::string>, Mean> means;  // (cell, seed, file)
  for (const auto& file : g.found.sweep) {
    const auto rows = read_eval(file);
    add_seconds(g.times[cell_name(file, g.root)].sweep, rows);
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      auto v = report_detail::threat_param(r.threat_params, spec.sweep_param);
      if (!v) {
        ++skipped;
        continue;
      }
      auto base = spec.algorithm_names.count(r.algorithm) ? spec.algorithm_names.at(r.algorithm) : r.algorithm;
      auto alg = row_label(base, r.mode);
      if (r.mode != "white-box") g.transfer_modes.insert(r.mode);
      g.sweep.push_back({r.model, alg, r.metric, *v, number(*v, file.string(), i, "threat_params"),
                         r.accuracy, r.seed});
      if (rank(spec.sweep_mean, r.metric) < spec.sweep_mean.size() && rank(spec.models, r.model) < spec.models.size() &&
          rank(spec.algorithms, base) < spec.algorithms.size()) {
        auto& m = means[{Key{r.model, alg, r.metric}, r.seed, file.string()}];
        m.acc.push_back(r.accuracy), m.values.insert(*v);
        m.ns.insert(r.n), m.datasets.insert(r.dataset), m.commits.insert(r.git_commit.empty() ? "(unknown)" : r.git_commit);
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
    cell.params.insert(fmt::format("mean over {} {}: {}", m.acc.size(), spec.sweep_param, join(m.values, " ")));
    cell.ns.insert(m.ns.begin(), m.ns.end()), cell.datasets.insert(m.datasets.begin(), m.datasets.end());
    cell.commits.insert(m.commits.begin(), m.commits.end());
  }
  if (skipped) notes.push_back(fmt::format("{} sweep row(s) without '{}' in threat_params skipped", skipped,
                                           spec.sweep_param));
  std::stable_sort(g.sweep.begin(), g.sweep.end(), [&](const SweepSample& a, const SweepSample& b) {
    auto key = [&](const SweepSample& s) {
      return std::make_tuple(rank(spec.models, s.model), s.model, rank(spec.algorithms, s.algorithm), s.algorithm,
                             rank(spec.columns, s.metric), s.metric, s.x);
    };
    return key(a) < key(b);
  });
}

// What the transfer rows show: per model, algorithm and transfer mode, the mean over the columns that have both
// a white-box and a transfer result, and which attack was the stronger one.
std::string transfer_findings(const ReportSpec& spec, const Gathered& g) {
  std::string out;
  for (const auto& m : spec.models)
    for (const auto& mode : g.transfer_modes)
      for (const auto& a : spec.algorithms) {
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
        out += fmt::format("- {} {}: {:.1f} % under white-box attacks, {:.1f} % {} (mean over {} column(s)): {}.\n", m, a,
                           white, transfer, mode, n, verdict);
      }
  return out;
}

std::string cell_text(const Stats& st, const PaperValue* paper) {
  std::string ours = st.std ? fmt::format("{:.2f}±{:.2f}", st.mean, *st.std) : fmt::format("{:.2f}", st.mean);
  return paper ? fmt::format("{} ({}, {})", ours, paper->text, signed1(st.mean - paper->value)) : ours;
}

std::string markdown(const ReportSpec& spec, const ReportOptions& opt, const Gathered& g,
                     const std::map<Key, PaperValue>& paper, const ReportResult& res,
                     const std::vector<std::string>& sweep_files) {
  std::string md = fmt::format("# {}\n\n", spec.title);
  md += "Each cell: our accuracy (%), mean over seeds (±sample std when there are several), then in parentheses "
        "the paper's value and ours − paper. — = no result.\n\n";
  md += fmt::format("| Model | Algorithm | {} |\n|---|---|", fmt::join(spec.columns, " | "));
  for (size_t i = 0; i < spec.columns.size(); ++i) md += "---:|";
  md += "\n";
  for (const auto& m : spec.models)
    for (const auto& [a, base, mode] : row_algorithms(spec, g)) {
      std::vector<std::string> row;
      bool any = false;
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        auto p = paper.find(Key{m, a, c});
        any |= it != g.cells.end();
        const PaperValue* pv = p == paper.end() ? nullptr : &p->second;
        row.push_back(it == g.cells.end() ? "—" : cell_text(stats(it->second), pv));
      }
      if (any) md += fmt::format("| {} | {} | {} |\n", m, a, fmt::join(row, " | "));
    }
  const size_t total = spec.models.size() * spec.algorithms.size() * spec.columns.size();
  md += fmt::format("\n{} of {} cells have a result.\n", total - res.cells_missing, total);
  if (!g.transfer_modes.empty())
    md += "\nRows \"ALG (transfer from SRC)\": transfer (black-box) attacks, crafted on the SRC model of the same model, "
          "dataset and seed (`lrbench eval RUN --source SRC_RUN`) and scored on ALG's model; the paper has no such "
          "rows. Where white-box and transfer accuracy differ much, the white-box number measures the gradient the "
          "attack got, not the model (gradient masking). What they show:\n\n" + transfer_findings(spec, g);

  if (!sweep_files.empty()) {
    md += fmt::format("\n## Accuracy vs {}\n\n", spec.sweep_param);
    for (const auto& f : sweep_files) {
      const std::string base = fs::path(f).filename().string();
      md += fs::path(f).extension() == ".png" ? fmt::format("![accuracy vs {}]({})\n", spec.sweep_param, base)
                                              : fmt::format("Data: `{}`\n\n", base);
    }
  }

  std::set<std::string> datasets, commits;
  std::map<std::string, std::set<std::string>> params;
  for (const auto& [key, cell] : g.cells) {
    datasets.insert(cell.datasets.begin(), cell.datasets.end());
    commits.insert(cell.commits.begin(), cell.commits.end());
    params[std::get<2>(key)].insert(cell.params.begin(), cell.params.end());
  }
  md += fmt::format("\n## Provenance\n\n- Runs: `{}` ({} eval/{}.csv file(s))\n", g.root.string(),
                    g.found.suite.size(), spec.suite);
  for (const auto& d : datasets) md += fmt::format("- Dataset: {}\n", d);
  md += fmt::format("- Git commit(s): {}\n- Threat parameters (threat_params of the eval rows):\n",
                    join(commits, ", "));
  for (const auto& c : spec.columns) {
    auto it = params.find(c);
    if (it == params.end()) continue;
    std::set<std::string> shown;
    for (const auto& p : it->second) shown.insert(p.empty() ? "(none)" : "`" + p + "`");
    md += fmt::format("  - {}: {}{}\n", c, join(shown, " | "), shown.size() > 1 ? " (differs between runs)" : "");
  }
  for (const auto& n : res.notes) md += fmt::format("- Note: {}\n", n);
  const auto notes_end = spec.notes.find_last_not_of(" \n\t");
  if (notes_end != std::string::npos)
    md += fmt::format("\n### Method notes\n\n{}\n", spec.notes.substr(0, notes_end + 1));

  const bool sweep = std::any_of(g.times.begin(), g.times.end(), [](const auto& t) { return t.second.sweep; });
  md += fmt::format("\n### Time per cell\n\n| Cell | Epochs | Training s | Eval s |{}\n|---|---:|---:|---:|{}\n",
                    sweep ? " Sweep s |" : "", sweep ? "---:|" : "");
  std::optional<double> train, eval, sw;
  auto add = [](std::optional<double>& sum, const std::optional<double>& v) {
    if (v) sum = sum.value_or(0) + *v;
  };
  for (const auto& [name, t] : g.times) {
    md += fmt::format("| {} | {} | {} | {} |{}\n", name, t.epochs ? std::to_string(*t.epochs) : "—",
                      opt_seconds(t.train), opt_seconds(t.eval), sweep ? " " + opt_seconds(t.sweep) + " |" : "");
    add(train, t.train), add(eval, t.eval), add(sw, t.sweep);
  }
  md += fmt::format("| **Total** | | {} | {} |{}\n", opt_seconds(train), opt_seconds(eval),
                    sweep ? " " + opt_seconds(sw) + " |" : "");
  // A resumed invocation skips finished cells, so its wall time alone would understate what the table cost.
  const double cells = train.value_or(0) + eval.value_or(0) + sw.value_or(0);
  if (opt.wall_seconds && *opt.wall_seconds < 0.9 * cells)
    md += fmt::format("\nWall time of this `make {}`: {:.1f} min. It resumed cells trained or evaluated by an earlier "
                      "invocation (same spec hash), so the cells' own time is the Total row: {:.1f} min.\n",
                      spec.name, *opt.wall_seconds / 60, cells / 60);
  else if (opt.wall_seconds)
    md += fmt::format("\nWall time of `make {}`: {:.1f} min\n", spec.name, *opt.wall_seconds / 60);
  return md;
}

}  // namespace

ReportResult make_report(const ReportSpec& spec, const ReportOptions& opt) {
  Gathered g;
  g.root = opt.runs_dir.empty() ? fs::path("runs") / spec.name : fs::path(opt.runs_dir);
  g.found = find_eval_files(g.root, spec.suite);
  if (g.found.suite.empty())
    throw DataError(fmt::format("{}: no eval/{}.csv found; run `lrbench eval RUN --suite {}` first (or make {})",
                                g.root.string(), spec.suite, spec.suite, spec.name));
  const auto paper = load_paper(spec.paper_csv);
  ReportResult res{CsvTable({"model", "algorithm", "metric", "accuracy", "paper", "delta", "n", "seeds", "std",
                             "dataset", "threat_params", "git_commit", "mode", "per_seed"}),
                   "", 0, {}, {}};
  gather(spec, g, res.notes);

  for (const auto& m : spec.models)
    for (const auto& [a, base, mode] : row_algorithms(spec, g))
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        if (it == g.cells.end()) {
          res.cells_missing += mode == "white-box";  // transfer rows are extra, never missing
          continue;
        }
        const Cell& cell = it->second;
        const Stats st = stats(cell);
        auto p = paper.find(Key{m, a, c});
        const bool has_paper = p != paper.end();
        res.long_table.add({m, base, c, fixed2(st.mean), has_paper ? fixed2(p->second.value) : "",
                            has_paper ? fixed2(st.mean - p->second.value) : "", join(cell.ns, "|"),
                            std::to_string(st.seeds), st.std ? fixed2(*st.std) : "",
                            join(cell.datasets, " | "), join(cell.params, " | "), join(cell.commits, " | "), mode,
                            per_seed(cell)});
        if (rank(spec.sweep_mean, c) == spec.sweep_mean.size()) continue;
        // The averaged cell's parts: one row per sweep value (mean ± std over seeds), no paper value.
        std::map<double, std::pair<std::string, Cell>> at;
        for (const auto& sm : g.sweep)
          if (sm.model == m && sm.algorithm == a && sm.metric == c) {
            auto& [text, part] = at[sm.x];
            text = sm.value;
            part.acc.push_back(sm.accuracy), part.acc_seed.push_back(sm.seed);
          }
        for (const auto& [x, tp] : at) {
          const Stats ps = stats(tp.second);
          res.long_table.add({m, base, c, fixed2(ps.mean), "", "", join(cell.ns, "|"), std::to_string(ps.seeds),
                              ps.std ? fixed2(*ps.std) : "", join(cell.datasets, " | "),
                              spec.sweep_param + "=" + tp.first, join(cell.commits, " | "), mode, per_seed(tp.second)});
        }
      }

  const fs::path out = opt.out_dir;
  std::vector<std::string> sweep_files;
  if (!g.sweep.empty()) {
    auto sw = report_detail::write_sweep(out.string(), spec.name, spec.sweep_param, g.sweep, opt.gnuplot);
    sweep_files = sw.written;
    res.notes.insert(res.notes.end(), sw.notes.begin(), sw.notes.end());
  }
  res.markdown = markdown(spec, opt, g, paper, res, sweep_files);
  const std::string csv_path = (out / (spec.name + ".csv")).string(), md_path = (out / (spec.name + ".md")).string();
  res.long_table.save(csv_path);
  write_text_atomic(md_path, res.markdown);
  res.written = {csv_path, md_path};
  res.written.insert(res.written.end(), sweep_files.begin(), sweep_files.end());
  return res;
}

}  // namespace lrb
