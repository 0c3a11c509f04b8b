// Gradient-masking checks on a gathered report (issue 27): the sanity checks of Carlini et al. 2019 ("On
// evaluating adversarial robustness", §5) and of AutoAttack's checks.py, applied to every cell a table has.
// Each finding names its cell and the numbers that triggered it; the Markdown and the HTML page print them.
// White-box rows are checked with the noise off and on (eval.noise); cells measured on different numbers of
// examples (AutoAttack's on 1,000 images, the rest on eval.n_examples) get two standard errors more tolerance.
//   1 black-box below white-box: Square, or a transfer row, leaves lower accuracy than the white-box
//     gradient attacks of the same cell (AutoAttack check_square_sr, alpha 0.2 pp);
//   2 the accuracy-vs-eps sweep rises as eps grows, or (white-box only) stays above 5 % at eps >= 0.5;
//   3 an iterative attack is weaker than the single-step one (I-FGSM or MI-FGSM above FGSM), or APGD-CE weaker
//     than I-FGSM;
//   4 the input gradient was exactly zero on more than 5 % of the examples a white-box attack took it on (AutoAttack
//     check_zero_gradients warns on any; a confident model's float32 softmax makes a few legitimate zeros);
//   5 a row's clean accuracy is within 5 pp of chance (the report's `chance:`): its attacked cells say nothing
//     about robustness and are greyed out in the HTML page.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "reports/gather.h"

namespace lrb::report_detail {

struct MaskingFinding {
  int check = 0;                  // 1..5 as above
  std::string model, row, text;  // row: the table row label; text: one sentence with the numbers
};

// Thresholds, in percentage points (accuracy) or as a share of examples.
inline constexpr double kBlackBoxTolerancePp = 0.2;
inline constexpr double kIterativeTolerancePp = 0.2;
inline constexpr double kSweepRiseTolerancePp = 0.2;
inline constexpr double kLargeEpsFloorPp = 5.0;
inline constexpr double kZeroGradientShare = 0.05;
inline constexpr double kChanceMarginPp = 5.0;
// "More than 0.2 pp" means more: 13.8 − 13.6 is 0.20000000000000107 in binary, and the CSVs hold 2 decimals.
inline constexpr double kRoundingPp = 1e-6;

std::vector<MaskingFinding> masking_findings(const ReportSpec& spec, const Gathered& g);

// Check 5's rows as (model, row label): the cells of these rows other than the clean column are greyed out.
std::set<std::pair<std::string, std::string>> near_chance_rows(const ReportSpec& spec, const Gathered& g);

// The text both outputs print above the findings: what the checks are.
std::string masking_legend();

}  // namespace lrb::report_detail
