#include "reports/masking.h"

#include <fmt/format.h>

#include <algorithm>
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

std::optional<double> mean_of(const Gathered& g, const std::string& model, const std::string& row,
                              const std::string& metric) {
  auto it = g.cells.find(Key{model, row, metric});
  if (it == g.cells.end() || it->second.acc.empty()) return std::nullopt;
  return stats(it->second).mean;
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
      if (ra.mode != "white-box") continue;  // transfer rows are compared with their white-box row below
      const std::string& a = ra.label;
      // 1: black-box below the best white-box gradient attack.
      std::optional<double> white;
      std::string white_metric;
      for (const auto& c : grads)
        if (auto v = mean_of(g, m, a, c); v && (!white || *v < *white)) white = v, white_metric = c;
      if (auto sq = mean_of(g, m, a, "Square"); sq && white && *sq < *white - kBlackBoxTolerancePp)
        add(1, m, a, fmt::format("{} {}: Square (black-box) leaves {:.2f} %, below the strongest white-box attack "
                                 "({} {:.2f} %)", m, a, *sq, white_metric, *white));
      for (const auto& mode : g.transfer_modes)
        for (const auto& c : grads) {
          if (mode.rfind("transfer", 0) != 0) continue;  // "noise on: ..." rows are white-box
          auto w = mean_of(g, m, a, c), t = mean_of(g, m, row_label(a, mode), c);
          if (w && t && *t < *w - kBlackBoxTolerancePp)
            add(1, m, a, fmt::format("{} {}: {} {} leaves {:.2f} %, below the white-box {} on the model itself "
                                     "({:.2f} %)", m, a, c, mode, *t, c, *w));
        }
      // 3: iterative weaker than single-step; APGD weaker than I-FGSM.
      auto fgsm = mean_of(g, m, a, "FGSM"), ifgsm = mean_of(g, m, a, "I-FGSM");
      for (const char* it : {"I-FGSM", "MI-FGSM"})
        if (auto v = mean_of(g, m, a, it); v && fgsm && *v > *fgsm + kIterativeTolerancePp)
          add(3, m, a, fmt::format("{} {}: {} leaves {:.2f} %, above FGSM's {:.2f} % (an iterative attack weaker "
                                   "than one step)", m, a, it, *v, *fgsm));
      if (auto v = mean_of(g, m, a, "APGD-CE"); v && ifgsm && *v > *ifgsm + kIterativeTolerancePp)
        add(3, m, a, fmt::format("{} {}: APGD-CE leaves {:.2f} %, above I-FGSM's {:.2f} %", m, a, *v, *ifgsm));
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
    for (size_t i = 1; i < s.points.size(); ++i) {
      const auto &p0 = s.points[i - 1], &p1 = s.points[i];
      const double a0 = p0.sum / p0.count, a1 = p1.sum / p1.count;
      if (a1 > a0 + kSweepRiseTolerancePp)
        add(2, s.model, s.algorithm, fmt::format("{} {}: {} accuracy rises from {:.2f} % to {:.2f} % as {} grows from "
                                                 "{} to {}", s.model, s.algorithm, s.metric, a0, a1,
                                                 spec.sweep_param, p0.value, p1.value));
    }
    if (spec.sweep_param == "eps" && !s.points.empty()) {
      const auto& last = s.points.back();
      if (last.x >= 0.5 && last.sum / last.count > kLargeEpsFloorPp)
        add(2, s.model, s.algorithm, fmt::format("{} {}: {} leaves {:.2f} % at eps {} (an L-inf ball of radius 0.5 "
                                                 "contains a grey image; accuracy should be near 0)", s.model,
                                                 s.algorithm, s.metric, last.sum / last.count, last.value));
    }
  }
  // 5: rows at chance.
  for (const auto& [m, a] : near_chance_rows(spec, g))
    add(5, m, a, fmt::format("{} {}: clean accuracy {:.2f} % is within {} pp of chance ({:.1f} %): its attacked cells "
                             "carry no information about robustness", m, a, *mean_of(g, m, a, spec.columns.front()),
                             kChanceMarginPp, spec.chance));
  return out;
}

}  // namespace lrb::report_detail
