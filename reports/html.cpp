// `lrbench report NAME --html`: one self-contained page (no network, no external file) from the same gathered
// results as the Markdown, plus what only the run directories hold: training curves (metrics.csv) and the
// provenance of every number (run.json, config.resolved.yaml).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>

#include "core/csv.h"
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
  std::vector<std::map<std::string, double>> epochs;  // metrics.csv rows: column -> value
};

bool seed_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::vector<Run> collect_runs(const ReportSpec& spec, const Gathered& g, std::vector<std::string>& notes) {
  std::map<fs::path, Run> by_dir;
  for (const auto& [key, cell] : g.cells)
    for (const auto& [seed, file] : cell.seed_file) {
      const fs::path dir = fs::path(file).parent_path().parent_path();
      auto [it, fresh] = by_dir.try_emplace(dir);
      // A run holds white-box and transfer rows; it is listed under its own (white-box) algorithm.
      const std::string alg = std::get<1>(key);
      if (!fresh && (alg.find(" (") != std::string::npos || it->second.algorithm.find(" (") == std::string::npos))
        continue;
      std::error_code ec;
      const auto rel = fs::relative(dir, g.root, ec);
      it->second = Run{dir, ec || rel.empty() ? dir.string() : rel.generic_string(), std::get<0>(key), alg, seed, {}, {}, {}};
    }
  std::vector<Run> runs;
  for (auto& [dir, r] : by_dir) {
    if (fs::exists(dir / "run.json")) r.record = nlohmann::json::parse(read_text((dir / "run.json").string()), nullptr, false);
    if (r.record.is_discarded() || !r.record.is_object()) {
      notes.push_back(fmt::format("{}: run.json missing or not JSON; its provenance is not shown", r.rel));
      r.record = nullptr;
    }
    if (fs::exists(dir / "config.resolved.yaml")) r.config = read_text((dir / "config.resolved.yaml").string());
    if (fs::exists(dir / "metrics.csv")) {
      const std::string file = (dir / "metrics.csv").string();
      const CsvTable m = CsvTable::load(file);
      for (size_t i = 0; i < m.rows().size(); ++i) {
        auto& row = r.epochs.emplace_back();
        for (size_t c = 0; c < m.header().size(); ++c)
          row[m.header()[c]] = m.rows()[i][c] == "nan" ? NAN : number(m.rows()[i][c], file, i, m.header()[c]);
      }
    }
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
    Chart acc{"accuracy per epoch", "epoch", "accuracy (%)", {}, true}, loss{"training loss per epoch", "epoch", "loss", {}, false};
    for (size_t k = i; k < j; ++k) {
      const int colour = static_cast<int>(k - i) + 1;
      auto series = [&](const char* col, const std::string& name, int dash) {
        ChartSeries s{fmt::format("seed {} {}", runs[k].seed, name), {}, colour, dash};
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
  const bool eps = spec.sweep_param == "eps";  // 4/255 reads better as 4
  using ChartKey = std::tuple<size_t, std::string, size_t, std::string>;  // model and metric, in print order
  using SeriesKey = std::pair<size_t, std::string>;                       // algorithm, in print order
  std::map<ChartKey, std::map<SeriesKey, std::map<double, std::pair<double, int>>>> sums;
  std::map<SeriesKey, int> colour;
  for (const auto& s : g.sweep) {
    const SeriesKey alg{rank(spec.algorithms, s.algorithm), s.algorithm};
    auto& [sum, n] = sums[{rank(spec.models, s.model), s.model, rank(spec.columns, s.metric), s.metric}][alg]
                         [s.x * (eps ? 255.0 : 1.0)];
    sum += s.accuracy, ++n;
    colour.emplace(alg, 0);
  }
  int next = 1;
  for (auto& [alg, c] : colour) c = next++;
  std::vector<Chart> charts;
  for (const auto& [key, series] : sums) {
    Chart c{std::get<1>(key) + " · " + std::get<3>(key), eps ? "eps × 255" : spec.sweep_param, "accuracy (%)", {}, true};
    for (const auto& [alg, points] : series) {
      ChartSeries line{alg.second, {}, colour[alg], 1};
      for (const auto& [x, sn] : points) line.xy.emplace_back(x, sn.first / sn.second);
      c.series.push_back(std::move(line));
    }
    charts.push_back(std::move(c));
  }
  return charts;
}

}  // namespace

std::string write_html_report(const ReportSpec& spec, const ReportOptions& opt, const ReportResult& res,
                              const std::vector<CheckResult>& checks) {
  std::vector<std::string> notes = res.notes;
  const Gathered g = gather(spec, runs_root(spec, opt), notes);
  const auto paper = load_paper(spec.paper_csv);
  const std::vector<Run> runs = collect_runs(spec, g, notes);

  std::vector<std::string> curve_titles;
  std::vector<Chart> charts = sweep_charts(spec, g);
  const size_t n_sweep = charts.size();
  for (auto& c : curve_charts(runs, curve_titles)) charts.push_back(std::move(c));
  std::string error;
  auto svgs = render_svg_charts(opt.gnuplot, charts, "ch", error);
  if (!svgs) notes.push_back("no plots in the HTML page: " + error);

  HtmlPage page(spec, g, paper, res, checks, opt.html_paper_tolerance);
  std::map<fs::path, size_t> run_index;
  for (size_t i = 0; i < runs.size(); ++i) run_index[runs[i].dir] = i;
  page.table([&](const Cell& cell) {
    std::vector<std::pair<std::string, std::string>> links;  // (seed, anchor)
    for (const auto& [seed, file] : cell.seed_file)
      if (auto it = run_index.find(fs::path(file).parent_path().parent_path()); it != run_index.end())
        links.emplace_back(seed, run_anchor(it->second));
    return links;
  });
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
        c.fields.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    cards.push_back(std::move(c));
  }
  page.provenance(cards, notes);
  const std::string path = (fs::path(opt.out_dir) / (spec.name + ".html")).string();
  write_text_atomic(path, page.finish());
  return path;
}

}  // namespace lrb
