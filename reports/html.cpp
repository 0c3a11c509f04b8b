// `lrbench report NAME --html`: one self-contained page (no network, no external file) from the same gathered
// results as the Markdown, plus what only the run directories hold: training curves (metrics.csv) and the
// provenance of every number (run.json, config.resolved.yaml).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <optional>
#include <set>
#include <tuple>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "reports/gather.h"
#include "reports/html_page.h"
#include "reports/svg_charts.h"

namespace lrb {

namespace fs = std::filesystem;
using namespace report_detail;

namespace {

// One run directory that fed the table: a (model, algorithm, seed) of the experiment.
struct Run {
  fs::path dir;
  std::string rel, model, algorithm, seed;
  nlohmann::json record;  // run.json; null when absent or not JSON
  std::string config;     // config.resolved.yaml
  std::vector<std::map<std::string, double>> epochs;  // metrics.csv rows: column -> value (NaN for nan/inf)
  std::set<std::string> eval_files;                    // the eval CSVs of this run that fed the table
};

// A metrics.csv field: a number, NaN for a non-finite one ("nan", "-nan", "inf": a failed run's last epoch),
// nullopt for anything else.
std::optional<double> metric_value(const std::string& s) {
  if (s == "nan" || s == "-nan" || s == "inf" || s == "-inf" || s == "+inf") return NAN;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Curves are extra: a run whose metrics.csv is missing or unreadable is listed without them, with a note.
void read_curves(Run& r, std::vector<std::string>& notes) {
  const fs::path file = r.dir / "metrics.csv";
  if (!fs::exists(file)) {
    notes.push_back(fmt::format("{}: no metrics.csv; no training curves for this run", r.rel));
    return;
  }
  try {
    const CsvTable m = CsvTable::load(file.string());
    for (size_t i = 0; i < m.rows().size(); ++i) {
      auto& row = r.epochs.emplace_back();
      for (size_t c = 0; c < m.header().size(); ++c) {
        const auto v = metric_value(m.rows()[i][c]);
        if (!v)
          throw DataError(fmt::format("row {} column {}: '{}' is not a number", i + 1, m.header()[c], m.rows()[i][c]));
        row[m.header()[c]] = *v;
      }
    }
  } catch (const DataError& e) {
    r.epochs.clear();
    notes.push_back(fmt::format("{}/metrics.csv: {}; no training curves for this run", r.rel, e.what()));
  }
}

bool seed_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::vector<Run> collect_runs(const ReportSpec& spec, const Gathered& g, std::vector<std::string>& notes) {
  std::map<fs::path, Run> by_dir;
  for (const auto& [key, cell] : g.cells)
    for (const auto& [seed, file] : cell.seed_file) {
      const fs::path dir = fs::path(file).parent_path().parent_path();
      auto [it, fresh] = by_dir.try_emplace(dir);
      it->second.eval_files.insert(file);
      // A run holds white-box and transfer rows; it is listed under its own (white-box) algorithm.
      const std::string alg = std::get<1>(key);
      if (!fresh && (alg.find(" (") != std::string::npos || it->second.algorithm.find(" (") == std::string::npos))
        continue;
      std::error_code ec;
      const auto rel = fs::relative(dir, g.root, ec);
      Run& r = it->second;
      r.dir = dir, r.rel = ec || rel.empty() ? dir.string() : rel.generic_string();
      r.model = std::get<0>(key), r.algorithm = alg, r.seed = seed;
    }
  // A sweep file feeds the plots even where no column averages it (gather read it: it has commits).
  for (const auto& f : g.found.sweep)
    if (auto it = by_dir.find(f.parent_path().parent_path()); it != by_dir.end() && g.file_commits.count(f.string()))
      it->second.eval_files.insert(f.string());
  std::vector<Run> runs;
  for (auto& [dir, r] : by_dir) {
    if (fs::exists(dir / "run.json")) r.record = nlohmann::json::parse(read_text((dir / "run.json").string()), nullptr, false);
    if (r.record.is_discarded() || !r.record.is_object()) {
      notes.push_back(fmt::format("{}: run.json missing or not JSON; its provenance is not shown", r.rel));
      r.record = nullptr;
    }
    if (fs::exists(dir / "config.resolved.yaml")) r.config = read_text((dir / "config.resolved.yaml").string());
    read_curves(r, notes);
    runs.push_back(std::move(r));
  }
  std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
    auto ra = rank(spec.models, a.model), rb = rank(spec.models, b.model);
    if (ra != rb) return ra < rb;
    ra = rank(spec.algorithms, a.algorithm), rb = rank(spec.algorithms, b.algorithm);
    if (ra != rb) return ra < rb;
    return a.algorithm != b.algorithm ? a.algorithm < b.algorithm : seed_less(a.seed, b.seed);
  });
  return runs;
}

std::string run_anchor(size_t i) { return fmt::format("run-{}", i); }

// Accuracy and loss per epoch of each (model, algorithm): one colour per seed; test solid, train dashed,
// validation dotted.
std::vector<Chart> curve_charts(const std::vector<Run>& runs, std::vector<std::string>& titles) {
  std::vector<Chart> charts;
  for (size_t i = 0; i < runs.size();) {
    size_t j = i;
    while (j < runs.size() && runs[j].model == runs[i].model && runs[j].algorithm == runs[i].algorithm) ++j;
    Chart acc{"accuracy per epoch", "epoch", "accuracy (%)", {}, true, true};
    Chart loss{"training loss per epoch", "epoch", "loss", {}, false, true};
    for (size_t k = i; k < j; ++k) {
      const int colour = static_cast<int>(k - i) + 1;
      auto series = [&](const char* col, const std::string& name, int dash) {
        ChartSeries s{fmt::format("seed {}{}", runs[k].seed, name.empty() ? "" : " " + name), {}, colour, dash};
        for (const auto& e : runs[k].epochs)
          if (e.count("epoch") && e.count(col)) s.xy.emplace_back(e.at("epoch"), e.at(col));
        return s;
      };
      acc.series.push_back(series("test_acc", "test", 1));
      acc.series.push_back(series("train_acc", "train", 2));
      if (!runs[k].epochs.empty() && runs[k].epochs.front().count("val_acc"))
        acc.series.push_back(series("val_acc", "val", 3));
      loss.series.push_back(series("loss", "", 1));
    }
    titles.push_back(runs[i].model + " " + runs[i].algorithm);
    charts.push_back(std::move(acc)), charts.push_back(std::move(loss));
    i = j;
  }
  return charts;
}

// Accuracy vs the swept parameter: one chart per (model, metric), one line per algorithm (mean over seeds), each
// algorithm in the same colour on every chart.
std::vector<Chart> sweep_charts(const ReportSpec& spec, const Gathered& g) {
  std::map<std::tuple<size_t, std::string, size_t, std::string>, Chart> charts;  // model and metric, in print order
  std::map<std::string, int> colour;  // first seen: g.sweep lists algorithms in the spec's order
  for (const auto& series : sweep_series(g.sweep)) {
    const bool eps = series.param == "eps";  // 4/255 reads better as 4
    auto& chart = charts[{rank(spec.models, series.model), series.model, rank(spec.columns, series.metric), series.metric}];
    if (chart.title.empty())
      chart = {series.model + " · " + series.metric, eps ? "eps × 255" : series.param, "accuracy (%)", {}, true};
    ChartSeries line{series.algorithm, {}, colour.emplace(series.algorithm, static_cast<int>(colour.size()) + 1).first->second, 1};
    for (const auto& p : series.points) line.xy.emplace_back(p.x * (eps ? 255.0 : 1.0), p.sum / p.count);
    chart.series.push_back(std::move(line));
  }
  std::vector<Chart> out;
  for (auto& [key, chart] : charts) out.push_back(std::move(chart));
  return out;
}

}  // namespace

HtmlResult write_html_report(const ReportSpec& spec, const ReportOptions& opt, const ReportResult& res,
                             const std::vector<CheckResult>& checks) {
  if (!res.gathered) throw std::logic_error("write_html_report: the ReportResult does not come from make_report");
  HtmlResult out;
  const Gathered& g = *res.gathered;
  const std::vector<Run> runs = collect_runs(spec, g, out.notes);

  std::vector<std::string> curve_titles;
  std::vector<Chart> charts = sweep_charts(spec, g);
  const size_t n_sweep = charts.size();
  for (auto& c : curve_charts(runs, curve_titles)) charts.push_back(std::move(c));
  std::string error;
  auto svgs = render_svg_charts(opt.gnuplot, charts, "ch", error);
  if (!svgs) out.notes.push_back("no plots in the HTML page: " + error);

  HtmlPage page(spec, g, res, checks, opt.html_paper_tolerance);
  std::map<fs::path, size_t> run_index;
  for (size_t i = 0; i < runs.size(); ++i) run_index[runs[i].dir] = i;
  page.table([&](const Cell& cell) {
    std::vector<std::pair<std::string, std::string>> links;  // (seed, anchor)
    for (const auto& [seed, file] : cell.seed_file)
      if (auto it = run_index.find(fs::path(file).parent_path().parent_path()); it != run_index.end())
        links.emplace_back(seed, run_anchor(it->second));
    return links;
  });
  page.claims();
  page.retention();
  page.text_attacks();
  page.masking();
  page.checks();
  if (n_sweep) {
    std::vector<std::string> sweep_svgs;
    if (svgs) sweep_svgs.assign(svgs->begin(), svgs->begin() + static_cast<std::ptrdiff_t>(n_sweep));
    page.sweeps(sweep_svgs, n_sweep);
  }
  std::vector<HtmlPage::Curves> curves;
  for (size_t i = 0; i < curve_titles.size(); ++i)
    curves.push_back({curve_titles[i], svgs ? (*svgs)[n_sweep + 2 * i] : "", svgs ? (*svgs)[n_sweep + 2 * i + 1] : ""});
  page.curves(curves);
  page.method_notes();
  page.times(opt.wall_seconds);
  std::vector<HtmlPage::RunCard> cards;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    HtmlPage::RunCard c{run_anchor(i), r.rel, r.model, r.algorithm, r.seed, {}, r.config};
    if (r.record.is_object())
      for (const auto& [k, v] : r.record.items())
        c.fields.emplace_back(k, v.is_string() ? v.get<std::string>()
                                 : v.is_number_float() ? fmt::format("{:.6g}", v.get<double>()) : v.dump());
    // Where each number was measured: the eval file and the commit of the binary that evaluated it.
    for (const auto& f : r.eval_files) {
      const auto commits = g.file_commits.find(f);
      std::error_code ec;
      const auto rel = fs::relative(f, r.dir, ec);
      c.fields.emplace_back("evaluated", fmt::format("{} (commit {})", ec ? f : rel.generic_string(),
                                                     commits == g.file_commits.end() ? "(unknown)" : join(commits->second, ", ")));
    }
    cards.push_back(std::move(c));
  }
  std::vector<std::string> page_notes = res.notes;
  page_notes.insert(page_notes.end(), out.notes.begin(), out.notes.end());
  page.provenance(cards, page_notes);
  page.conclusions();
  out.path = (fs::path(opt.out_dir) / (spec.name + ".html")).string();
  write_text_atomic(out.path, page.finish());
  return out;
}

}  // namespace lrb
