#include "reports/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "reports/eval_files.h"

namespace lrb {

using report_detail::column;
using report_detail::number;

namespace {

const std::vector<std::string> kRegressionHeader = {"table",     "model",     "algorithm", "metric",
                                                    "mode",      "threat_params", "expected", "tolerance",
                                                    "per_seed",  "n",         "dataset",   "commit"};

using CellKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;

CellKey key_of(const ExpectedCell& c) { return {c.model, c.algorithm, c.metric, c.mode, c.threat_params}; }

bool has(const CsvTable& t, const std::string& col) {
  return std::find(t.header().begin(), t.header().end(), col) != t.header().end();
}

// The optional `mode` column: long CSVs written before transfer mode existed have none (white-box).
std::string mode_at(const CsvTable& t, const std::vector<std::string>& row) {
  auto it = std::find(t.header().begin(), t.header().end(), "mode");
  return it == t.header().end() ? "white-box" : row[static_cast<size_t>(it - t.header().begin())];
}

std::string cell_text(const ExpectedCell& c) {
  std::string s = fmt::format("{} / {} / {}", c.model, c.algorithm, c.metric);
  if (c.mode != "white-box") s += " [" + c.mode + "]";
  if (!c.threat_params.empty()) s += " (" + c.threat_params + ")";
  return s;
}

double ceil2(double v) { return std::ceil(v * 100.0 - 1e-9) / 100.0; }

}  // namespace

ExpectedSet load_expected(const std::string& path, const std::string& table, std::optional<double> tolerance_pp) {
  const CsvTable t = CsvTable::load(path);
  ExpectedSet out{path, {}};
  const bool regression = has(t, "tolerance");
  if (!regression && !tolerance_pp)
    throw ConfigError(fmt::format("{}: a report CSV has no tolerances; give --tolerance PP", path));
  const size_t model = column(t, path, "model"), alg = column(t, path, "algorithm"), metric = column(t, path, "metric"),
               params = column(t, path, "threat_params"), value = column(t, path, regression ? "expected" : "accuracy");
  const size_t tab = regression ? column(t, path, "table") : 0, tol = regression ? column(t, path, "tolerance") : 0;
  const size_t sd = regression ? 0 : column(t, path, "std");
  for (size_t i = 0; i < t.rows().size(); ++i) {
    const auto& r = t.rows()[i];
    if (regression && r[tab] != table) continue;
    ExpectedCell c{r[model], r[alg], r[metric], mode_at(t, r), r[params]};
    c.expected = number(r[value], path, i, regression ? "expected" : "accuracy");
    if (regression) {
      c.tolerance = number(r[tol], path, i, "tolerance");
      if (c.tolerance < 0) throw DataError(fmt::format("{}: row {}: tolerance {} is negative", path, i + 2, r[tol]));
    } else {
      c.tolerance = *tolerance_pp;
      if (!r[sd].empty()) c.tolerance = std::max(c.tolerance, 2.0 * number(r[sd], path, i, "std"));
    }
    out.cells.push_back(std::move(c));
  }
  if (out.cells.empty())
    throw ConfigError(fmt::format("{}: no expected cell for '{}'; write them with tools/update_expected.sh", path,
                                  table));
  return out;
}

ExpectedSet paper_expected(const CsvTable& long_table, double tolerance_pp, const std::vector<std::string>& metrics) {
  const std::string label = metrics.empty() ? "the paper" : fmt::format("the paper ({})", fmt::join(metrics, ", "));
  const size_t model = column(long_table, label, "model"), alg = column(long_table, label, "algorithm"),
               metric = column(long_table, label, "metric"), paper = column(long_table, label, "paper"),
               params = column(long_table, label, "threat_params");
  ExpectedSet out{label, {}};
  for (size_t i = 0; i < long_table.rows().size(); ++i) {
    const auto& r = long_table.rows()[i];
    if (r[paper].empty()) continue;
    if (!metrics.empty() && std::find(metrics.begin(), metrics.end(), r[metric]) == metrics.end()) continue;
    ExpectedCell c{r[model], r[alg], r[metric], mode_at(long_table, r), r[params]};
    c.expected = number(r[paper], label, i, "paper");
    c.tolerance = tolerance_pp;
    out.cells.push_back(std::move(c));
  }
  return out;
}

CheckResult check_cells(const ExpectedSet& expected, const CsvTable& got) {
  const std::string label = "the report";
  const size_t model = column(got, label, "model"), alg = column(got, label, "algorithm"),
               metric = column(got, label, "metric"), acc = column(got, label, "accuracy"),
               params = column(got, label, "threat_params");
  std::map<CellKey, double> produced;
  for (size_t i = 0; i < got.rows().size(); ++i) {
    const auto& r = got.rows()[i];
    produced[{r[model], r[alg], r[metric], mode_at(got, r), r[params]}] = number(r[acc], label, i, "accuracy");
  }
  CheckResult res{expected.label, 0, 0, {}};
  std::set<CellKey> seen;
  for (const auto& c : expected.cells) {
    seen.insert(key_of(c));
    auto it = produced.find(key_of(c));
    if (it == produced.end()) {
      res.offenders.push_back({c, std::nullopt});
      continue;
    }
    ++res.compared;
    // Both sides are printed with two decimals; the slack keeps a value exactly on the band's edge inside.
    if (std::fabs(it->second - c.expected) > c.tolerance + 1e-6) res.offenders.push_back({c, it->second});
  }
  for (const auto& [k, v] : produced) res.unexpected += !seen.count(k);
  return res;
}

std::string format_check(const CheckResult& r) {
  std::ostringstream o;
  const size_t total = r.compared + std::count_if(r.offenders.begin(), r.offenders.end(),
                                                   [](const Offender& f) { return !f.got; });
  o << fmt::format("check against {}: {} of {} cells outside their tolerance", r.label, r.offenders.size(), total);
  if (r.unexpected) o << fmt::format(" ({} produced cells have no expected value)", r.unexpected);
  o << "\n";
  if (r.ok()) return o.str();
  size_t w = 4;
  for (const auto& f : r.offenders) w = std::max(w, cell_text(f.cell).size());
  o << fmt::format("  {:<{}}  {:>8}  {:>8}  {:>9}  {:>7}\n", "cell", w, "expected", "got", "tolerance", "off by");
  for (const auto& f : r.offenders)
    o << fmt::format("  {:<{}}  {:>8.2f}  {:>8}  {:>9}  {:>7}\n", cell_text(f.cell), w, f.cell.expected,
                     f.got ? fmt::format("{:.2f}", *f.got) : "missing", fmt::format("±{:.2f}", f.cell.tolerance),
                     f.got ? fmt::format("{:+.2f}", *f.got - f.cell.expected) : "");
  return o.str();
}

CsvTable updated_expected(const std::string& path, const std::string& table, const CsvTable& long_table) {
  std::vector<std::vector<std::string>> rows;
  if (std::filesystem::exists(path)) {
    const CsvTable old = CsvTable::load(path);
    if (old.header() != kRegressionHeader)
      throw DataError(fmt::format("{}: not a regression expected file (header {})", path,
                                  fmt::join(old.header(), ",")));
    for (const auto& r : old.rows())
      if (r[0] != table) rows.push_back(r);
  }
  const std::string label = "the report";
  const size_t model = column(long_table, label, "model"), alg = column(long_table, label, "algorithm"),
               metric = column(long_table, label, "metric"), params = column(long_table, label, "threat_params"),
               seeds = column(long_table, label, "per_seed"), n = column(long_table, label, "n"),
               data = column(long_table, label, "dataset"), commit = column(long_table, label, "git_commit");
  for (size_t i = 0; i < long_table.rows().size(); ++i) {
    const auto& r = long_table.rows()[i];
    // A matched row exists only for the seeds whose snapshot came within 2 pp: not a band the tier can hold.
    if (mode_at(long_table, r).rfind("matched to", 0) == 0) continue;
    const std::string cell = fmt::format("{}/{}/{} {}", r[model], r[alg], r[metric], r[params]);
    std::optional<double> seed0;
    double lo = 1e300, hi = -1e300;
    size_t count = 0;
    std::istringstream in(r[seeds]);
    for (std::string item; in >> item;) {
      auto colon = item.find(':');
      if (colon == std::string::npos) throw DataError(fmt::format("{}: per_seed '{}' is not SEED:VALUE", cell, item));
      const double v = number(item.substr(colon + 1), label, i, "per_seed");
      if (item.substr(0, colon) == "0") seed0 = v;
      lo = std::min(lo, v), hi = std::max(hi, v), ++count;
    }
    if (count < 2 || !seed0)
      throw ConfigError(fmt::format("{}: per_seed '{}' needs seed 0 and at least one more seed to measure the band "
                                    "(run with SEEDS=3)", cell, r[seeds]));
    double fewest = 1e300;
    std::istringstream ns(r[n]);
    for (std::string part; std::getline(ns, part, '|');) fewest = std::min(fewest, number(part, label, i, "n"));
    const double tol = ceil2(std::max(hi - lo, fewest > 0 ? 100.0 / fewest : 0.0));
    rows.push_back({table, r[model], r[alg], r[metric], mode_at(long_table, r), r[params], fmt::format("{:.2f}", *seed0),
             fmt::format("{:.2f}", tol), r[seeds], r[n], r[data], r[commit]});
  }
  // Tables in name order, each table's cells in report order: one table's update leaves the others' lines put.
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a[0] < b[0]; });
  CsvTable out(kRegressionHeader);
  for (auto& r : rows) out.add(std::move(r));
  return out;
}

}  // namespace lrb
