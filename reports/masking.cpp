#include "reports/masking.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>

namespace lrb::report_detail {

namespace {

// White-box gradient attacks, single-step first; Square and AutoAttack (which ends in Square) are not here.
const std::vector<std::string>& gradient_metrics() {
  static const std::vector<std::string> m = {"FGSM", "I-FGSM", "MI-FGSM", "APGD-CE", "APGD-DLR", "APGD-T"};
  return m;
}

// A cell's mean accuracy and its number of examples (the smallest over its seeds).
struct Value {
  double mean = 0, n = 0;
};
std::optional<Value> value_of(const Gathered& g, const std::string& model, const std::string& row,
                              const std::string& metric) {
  auto it = g.cells.find(Key{model, row, metric});
  if (it == g.cells.end() || it->second.acc.empty()) return std::nullopt;
  return Value{stats(it->second).mean, min_examples(it->second)};
}

// `base` when both cells counted the same examples. A suite may give some attacks fewer (AutoAttack's on the
// first 1,000 test images, the others eval.n_examples): the smaller set is the first rows of the larger, so
// the two accuracies differ by sampling alone, with standard error sqrt(p(1-p)(1/n_small - 1/n_large)); two
// of those are added.
double tolerance(double base, const Value& a, const Value& b) {
  base += kRoundingPp;
  if (a.n <= 0 || b.n <= 0 || a.n == b.n) return base;
  const double p = std::clamp((a.mean + b.mean) / 200.0, 0.0, 1.0);
  return base + 2 * 100 * std::sqrt(p * (1 - p) * std::fabs(1 / a.n - 1 / b.n));
}

}  // namespace

std::string masking_legend() {
  return "Gradient-masking checks (Carlini et al. 2019; AutoAttack's checks.py), run on every cell: (1) a black-box "
         "attack (Square, transfer) leaves lower accuracy than the white-box gradient attacks; (2) accuracy rises as "
         "eps grows, or stays above 5 % at eps >= 0.5; (3) an iterative attack is weaker than FGSM, or APGD-CE weaker "
         "than I-FGSM; (4) the input gradient is exactly zero on more than 5 % of the examples; (5) clean accuracy "
         "within 5 pp of chance, so the row's attacked cells carry no information (greyed out in the HTML page).";
}

std::set<std::pair<std::string, std::string>> near_chance_rows(const ReportSpec& spec, const Gathered& g) {
  std::set<std::pair<std::string, std::string>> out;
  if (spec.chance <= 0 || spec.columns.empty()) return out;
  for (const auto& [key, cell] : g.cells) {
    const auto& [model, row, metric] = key;
    if (metric != spec.columns.front() || cell.acc.empty()) continue;
    if (stats(cell).mean < spec.chance + kChanceMarginPp) out.insert({model, row});
  }
  return out;
}

std::vector<MaskingFinding> masking_findings(const ReportSpec& spec, const Gathered& g) {
  std::vector<MaskingFinding> out;
  auto add = [&](int check, const std::string& m, const std::string& row, std::string text) {
    out.push_back({check, m, row, std::move(text)});
  };
  const auto rows = row_algorithms(spec, g);
  const auto& grads = gradient_metrics();
  for (const auto& m : spec.models)
    for (const auto& ra : rows) {
      // White-box rows, with or without the noise kept on; transfer rows are compared with theirs below.
      const bool noisy = ra.mode.rfind("noise on", 0) == 0;
      // Rows "BP (matched to ALG)" are white-box evaluations of a BP snapshot: checked as such.
      if (ra.mode != "white-box" && !noisy && ra.mode.rfind("matched to", 0) != 0) continue;
      const std::string& a = ra.label;
      // 1: black-box below the best white-box gradient attack.
      std::optional<Value> white;
      std::string white_metric;
      for (const auto& c : grads)
        if (auto v = value_of(g, m, a, c); v && (!white || v->mean < white->mean)) white = v, white_metric = c;
      if (auto sq = value_of(g, m, a, "Square");
          sq && white && sq->mean < white->mean - tolerance(kBlackBoxTolerancePp, *sq, *white))
        add(1, m, a, fmt::format("{} {}: Square (black-box) leaves {:.2f} %, below the strongest white-box attack "
                                 "({} {:.2f} %)", m, a, sq->mean, white_metric, white->mean));
      for (const auto& mode : g.transfer_modes)
        for (const auto& c : grads) {
          if (noisy || mode.rfind("transfer", 0) != 0) continue;
          auto w = value_of(g, m, a, c), t = value_of(g, m, row_label(a, mode), c);
          if (w && t && t->mean < w->mean - tolerance(kBlackBoxTolerancePp, *t, *w))
            add(1, m, a, fmt::format("{} {}: {} {} leaves {:.2f} %, below the white-box {} on the model itself "
                                     "({:.2f} %)", m, a, c, mode, t->mean, c, w->mean));
        }
      // 3: iterative weaker than single-step; APGD weaker than I-FGSM.
      auto fgsm = value_of(g, m, a, "FGSM"), ifgsm = value_of(g, m, a, "I-FGSM");
      for (const char* it : {"I-FGSM", "MI-FGSM"})
        if (auto v = value_of(g, m, a, it); v && fgsm && v->mean > fgsm->mean + tolerance(kIterativeTolerancePp, *v, *fgsm))
          add(3, m, a, fmt::format("{} {}: {} leaves {:.2f} %, above FGSM's {:.2f} % (an iterative attack weaker "
                                   "than one step)", m, a, it, v->mean, fgsm->mean));
      if (auto v = value_of(g, m, a, "APGD-CE");
          v && ifgsm && v->mean > ifgsm->mean + tolerance(kIterativeTolerancePp, *v, *ifgsm))
        add(3, m, a, fmt::format("{} {}: APGD-CE leaves {:.2f} %, above I-FGSM's {:.2f} %", m, a, v->mean, ifgsm->mean));
      // 4: share of examples with an exactly zero input gradient.
      for (const auto& c : grads) {
        auto it = g.cells.find(Key{m, a, c});
        if (it == g.cells.end() || it->second.grad_examples == 0) continue;
        const double share = static_cast<double>(it->second.zero_grad_examples) / it->second.grad_examples;
        if (share > kZeroGradientShare)
          add(4, m, a, fmt::format("{} {}: {} found the input gradient exactly zero on {} of {} examples ({:.1f} %)",
                                   m, a, c, it->second.zero_grad_examples, it->second.grad_examples, 100 * share));
      }
    }
  // 2: the sweep, per series (mean over seeds at each eps).
  for (const auto& s : sweep_series(g.sweep)) {
    // Check 2 reads the main sweep's curves only (eps, Table 3's edge rate); another setting's curve need not fall
    // (Poisson's rate: a larger rate is milder noise).
    if (s.param != spec.sweep_param) continue;
    for (size_t i = 1; i < s.points.size(); ++i) {
      const auto &p0 = s.points[i - 1], &p1 = s.points[i];
      const double a0 = p0.sum / p0.count, a1 = p1.sum / p1.count;
      if (a1 > a0 + kSweepRiseTolerancePp + kRoundingPp)
        add(2, s.model, s.algorithm, fmt::format("{} {}: {} accuracy rises from {:.2f} % to {:.2f} % as {} grows from "
                                                 "{} to {}", s.model, s.algorithm, s.metric, a0, a1,
                                                 spec.sweep_param, p0.value, p1.value));
    }
    // The floor holds for white-box attacks only: a transfer attack need not reach ~0 (chance alone is above it).
    if (spec.sweep_param == "eps" && !s.points.empty() && s.algorithm.find("(transfer") == std::string::npos) {
      const auto& last = s.points.back();
      if (last.x >= 0.5 && last.sum / last.count > kLargeEpsFloorPp + kRoundingPp)
        add(2, s.model, s.algorithm, fmt::format("{} {}: {} leaves {:.2f} % at eps {} (an L-inf ball of radius 0.5 "
                                                 "contains a grey image; accuracy should be near 0)", s.model,
                                                 s.algorithm, s.metric, last.sum / last.count, last.value));
    }
  }
  // 5: rows at chance.
  for (const auto& [m, a] : near_chance_rows(spec, g))
    add(5, m, a, fmt::format("{} {}: clean accuracy {:.2f} % is within {} pp of chance ({:.1f} %): its attacked cells "
                             "carry no information about robustness", m, a, value_of(g, m, a, spec.columns.front())->mean,
                             kChanceMarginPp, spec.chance));
  return out;
}

}  // namespace lrb::report_detail
