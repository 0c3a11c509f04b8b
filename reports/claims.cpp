#include "reports/claims.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>

namespace lrb::report_detail {

double t975(size_t df) {
  // Student's t, two-sided 95 %: the standard table (any statistics text); df > 30 uses the normal quantile.
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return std::nan("");
  // Beyond the table: 1.96 + 2.4 / df is within 0.003 of the exact quantile for df > 30.
  return df <= 30 ? kTable[df - 1] : 1.96 + 2.4 / static_cast<double>(df);
}

bool text_matches_table(const ClaimSpec& claim, double table_value) {
  const auto dot = claim.value_text.find('.');
  const int decimals = dot == std::string::npos ? 0 : static_cast<int>(claim.value_text.size() - dot - 1);
  // Within half a unit of the text's last decimal: the text printed the table's value rounded.
  return std::fabs(table_value - claim.value) <= 0.5 * std::pow(10.0, -decimals) + 1e-9;
}

std::string text_value(const ClaimSpec& claim) {
  std::string t = claim.value_text.empty() ? fmt::format("{}", claim.value) : claim.value_text;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.erase(0, 1);
  return (claim.value < 0 ? "−" : "+") + t;
}

std::optional<double> paper_claim(const ClaimSpec& claim, const std::map<Key, PaperValue>& paper) {
  double sum = 0;
  size_t k = 0;
  for (const auto& m : claim.models)
    for (const auto& c : claim.columns) {
      auto a = paper.find(Key{m, claim.algorithm, c}), b = paper.find(Key{m, claim.baseline, c});
      if (a == paper.end() || b == paper.end()) return std::nullopt;
      sum += a->second.value - b->second.value, ++k;
    }
  return k ? std::optional<double>(sum / static_cast<double>(k)) : std::nullopt;
}

namespace {

std::map<std::string, double> by_seed(const Cell& c) {
  std::map<std::string, double> out;
  for (size_t i = 0; i < c.acc.size() && i < c.acc_seed.size(); ++i) out[c.acc_seed[i]] = c.acc[i];
  return out;
}

// The mean of algorithm − baseline over the pairs' cells, with its interval (claims.h says how).
struct Difference {
  double mean = 0;
  std::optional<Interval> interval;
};
struct Pair {
  const Cell* a = nullptr;  // the algorithm's cell
  const Cell* b = nullptr;  // the baseline's
  size_t model = 0;         // index in the claim's models
};

Difference difference(const std::vector<Pair>& pairs) {
  Difference out;
  const double k = static_cast<double>(pairs.size());
  for (const auto& [a, b, m] : pairs) out.mean += stats(*a).mean - stats(*b).mean;
  out.mean /= k;
  // Seeds every cell of the claim has: one claim value per seed.
  std::vector<std::pair<std::map<std::string, double>, std::map<std::string, double>>> seeds;  // per pair: a's, b's
  for (const auto& [a, b, m] : pairs) seeds.emplace_back(by_seed(*a), by_seed(*b));
  std::set<std::string> common;
  bool first = true;
  bool several = false;  // a cell has two or more seeds
  for (const auto& pair : seeds)
    for (const auto* cell : {&pair.first, &pair.second}) {
      several |= cell->size() >= 2;
      std::set<std::string> s;
      for (const auto& [seed, v] : *cell) s.insert(seed);
      if (first) common = s, first = false;
      else {
        std::set<std::string> both;
        std::set_intersection(common.begin(), common.end(), s.begin(), s.end(), std::inserter(both, both.begin()));
        common = std::move(both);
      }
    }
  if (common.size() >= 2) {
    std::vector<double> per_seed;
    for (const auto& seed : common) {
      double d = 0;
      for (const auto& [a, b] : seeds) d += a.at(seed) - b.at(seed);
      per_seed.push_back(d / k);
    }
    const double s = static_cast<double>(per_seed.size());
    double m = 0, ss = 0;
    for (double v : per_seed) m += v;
    m /= s;
    for (double v : per_seed) ss += (v - m) * (v - m);
    const double half = t975(per_seed.size() - 1) * std::sqrt(ss / (s - 1)) / std::sqrt(s);
    out.mean = m;
    out.interval = Interval{m - half, m + half, fmt::format("t over {} seeds", per_seed.size())};
    return out;
  }
  // The columns of one model share its examples (FGSM, I-FGSM and MI-FGSM fail on much the same images), so their
  // errors are taken as fully correlated: standard deviations add within a model, variances across models.
  std::map<size_t, double> sd_of_model;
  double n_min = 0;
  for (const auto& [a, b, m] : pairs) {
    double var = 0;
    for (const Cell* c : {a, b}) {
      const double n = min_examples(*c), p = stats(*c).mean / 100;
      if (n <= 0) return out;  // no interval without the number of examples
      var += p * (1 - p) / n, n_min = n_min == 0 ? n : std::min(n_min, n);
    }
    sd_of_model[m] += std::sqrt(var);
  }
  double var = 0;
  for (const auto& [m, sd] : sd_of_model) var += sd * sd;
  const double half = 1.96 * 100 * std::sqrt(var) / k;
  out.interval = Interval{out.mean - half, out.mean + half,
                          fmt::format("binomial over {} test examples per cell, {}", n_min,
                                      several ? "seeds not shared by every cell" : "one seed")};
  return out;
}

// The claim's (algorithm, baseline) cell pairs with `baseline` as the row label; `missing` receives the cells
// without a result.
std::vector<Pair> claim_pairs(const ClaimSpec& claim, const Gathered& g, const std::string& baseline,
                              std::vector<std::string>& missing) {
  std::vector<Pair> pairs;
  for (size_t mi = 0; mi < claim.models.size(); ++mi)
    for (const auto& c : claim.our_columns()) {
      const auto& m = claim.models[mi];
      const Cell* cells[2] = {nullptr, nullptr};
      for (int i = 0; i < 2; ++i) {
        const std::string& alg = i ? baseline : claim.algorithm;
        auto it = g.cells.find(Key{m, alg, c});
        if (it == g.cells.end() || it->second.acc.empty()) missing.push_back(m + " " + alg + " " + c);
        else cells[i] = &it->second;
      }
      if (cells[0] && cells[1]) pairs.push_back({cells[0], cells[1], mi});
    }
  return pairs;
}

}  // namespace

std::string matched_label(const ClaimSpec& claim) {
  return row_label(claim.baseline, "matched to " + claim.algorithm);
}

std::string noise_control_of(const std::string& algorithm) {
  if (algorithm == "LR") return "BP+noise";
  return algorithm.rfind("LR-", 0) == 0 ? "BP+noise-" + algorithm.substr(3) : "";
}

std::vector<ClaimRow> claim_rows(const ReportSpec& spec, const Gathered& g) {
  std::vector<ClaimRow> out;
  const std::string& clean = spec.columns.empty() ? std::string() : spec.columns.front();
  auto compute = [&](const ClaimSpec& claim) {
    ClaimRow row;
    row.claim = claim;
    row.paper_table = paper_claim(claim, g.paper);
    const auto pairs = claim_pairs(claim, g, claim.baseline, row.missing);
    // A robustness claim compares models of different clean accuracy only where the clean columns differ.
    const bool attacked = std::any_of(claim.columns.begin(), claim.columns.end(), [&](auto& c) { return c != clean; });
    if (attacked)
      for (const auto& m : claim.models) {
        const auto ca = mean_of(g, Key{m, claim.algorithm, clean}), cb = mean_of(g, Key{m, claim.baseline, clean});
        if (ca && cb && std::fabs(*ca - *cb) > kMatchedAccuracyPp)
          row.confounded.push_back(fmt::format("{}: {} {:.2f} vs {} {:.2f}", m, claim.algorithm, *ca, claim.baseline, *cb));
      }
    if (row.missing.empty() && !pairs.empty()) {
      const auto d = difference(pairs);
      row.ours = d.mean, row.interval = d.interval;
    }
    // The same claim against the baseline's snapshots at the algorithm's clean accuracy, where every cell has one.
    if (attacked) {
      std::vector<std::string> none;
      const auto matched = claim_pairs(claim, g, matched_label(claim), none);
      if (none.empty() && !matched.empty()) {
        const auto d = difference(matched);
        row.matched = d.mean, row.matched_interval = d.interval;
      }
    }
    // And against BP trained under the algorithm's own noise.
    if (const auto control = noise_control_of(claim.algorithm); !control.empty()) {
      std::vector<std::string> none;
      const auto pairs_c = claim_pairs(claim, g, control, none);
      if (none.empty() && !pairs_c.empty()) {
        const auto d = difference(pairs_c);
        row.control = d.mean, row.control_interval = d.interval;
      }
    }
    return row;
  };
  for (const auto& claim : spec.claims) {
    out.push_back(compute(claim));
    if (out.back().ours || claim.models.size() < 2) continue;
    // A table with some of the claim's models (an audit profile that cuts one): the same sentence over those alone.
    std::vector<std::string> complete;
    for (const auto& m : claim.models) {
      ClaimSpec one = claim;
      one.models = {m};
      std::vector<std::string> missing;
      claim_pairs(one, g, claim.baseline, missing);
      if (missing.empty()) complete.push_back(m);
    }
    if (complete.empty()) continue;
    ClaimSpec part = claim;
    part.models = complete;
    out.push_back(compute(part));
    out.back().subset = true;
  }
  return out;
}

std::string range_text(const Interval& i) { return fmt::format("[{}, {}]", signed_fixed(i.lo, 2), signed_fixed(i.hi, 2)); }

namespace {
// "LR above BP", "LR below BP", or "cannot tell LR from BP" when the interval holds 0.
std::string direction(const Interval& i, const std::string& algorithm, const std::string& baseline) {
  if (i.lo > 0 || i.hi < 0) return fmt::format("{} {} {}", algorithm, i.lo > 0 ? "above" : "below", baseline);
  return fmt::format("cannot tell {} from {}", algorithm, baseline);
}
}  // namespace

std::string claim_verdict(const ClaimRow& row) {
  const auto& c = row.claim;
  if (!row.ours) return "no result: " + fmt::format("{}", fmt::join(row.missing, ", ")) + " missing";
  if (!row.interval) return "no interval (the cells do not say how many examples they were measured on)";
  const double paper = row.paper_table.value_or(c.value);
  std::string v = direction(*row.interval, c.algorithm, c.baseline);
  if (row.interval->lo > 0 || row.interval->hi < 0) {
    if (paper != 0)
      v += (row.interval->lo > 0) == (paper > 0) ? ": the paper's direction" : ": the reverse of the paper's direction";
  } else {
    v += " (the interval holds 0)";
  }
  const bool inside = paper >= row.interval->lo && paper <= row.interval->hi;
  v += fmt::format("; the paper's {} is {} our interval", signed_fixed(paper, 2), inside ? "inside" : "outside");
  if (!row.confounded.empty())
    v += fmt::format("; confounded by clean accuracy ({})", fmt::join(row.confounded, "; "));
  if (row.control_interval) v += "; " + direction(*row.control_interval, c.algorithm, noise_control_of(c.algorithm));
  if (row.matched_interval)
    v += "; at matched clean accuracy " + direction(*row.matched_interval, c.algorithm, c.baseline);
  return v;
}

const std::vector<std::string> kClaimHeader = {"The paper says", "Compared", "Over", "Text", "Paper's table", "Ours",
                                               "95 % interval", "Ours vs BP+noise", "Ours vs BP at matched accuracy",
                                               "Verdict"};

namespace {
std::string interval_text(const std::optional<double>& v, const std::optional<Interval>& i) {
  if (!v) return "—";
  return i ? signed_fixed(*v, 2) + " " + range_text(*i) : signed_fixed(*v, 2);
}
}  // namespace

std::vector<std::string> claim_cells(const ClaimRow& r) {
  const auto& c = r.claim;
  const bool off = !r.subset && r.paper_table && !text_matches_table(c, *r.paper_table);
  return {r.subset ? c.says + " (on the models this table has)" : c.says,
          c.algorithm + " − " + c.baseline,
          fmt::format("{} × {}{}", fmt::join(c.models, ", "), fmt::join(c.columns, ", "),
                      c.ours_on.empty() ? "" : fmt::format(" (ours: {})", fmt::join(c.ours_on, ", "))),
          r.subset ? text_value(c) + " (over all its models)" : text_value(c),
          r.paper_table ? fmt::format("{}{}", signed_fixed(*r.paper_table, 2), off ? " ≠ text" : "") : "—",
          r.ours ? signed_fixed(*r.ours, 2) : "—",
          r.interval ? fmt::format("{} ({})", range_text(*r.interval), r.interval->method) : "—",
          interval_text(r.control, r.control_interval),
          interval_text(r.matched, r.matched_interval),
          claim_verdict(r)};
}

}  // namespace lrb::report_detail
