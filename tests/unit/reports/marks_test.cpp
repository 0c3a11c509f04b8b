// The reversal mark: a cell whose retention (accuracy / clean) minus BP's has the other sign than the paper's.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "reports/marks.h"

using namespace lrb;
using namespace lrb::report_detail;

namespace {

void put(Gathered& g, const std::string& alg, const std::string& col, double ours, std::optional<double> paper) {
  g.cells[Key{"Net", alg, col}].acc = {ours};
  g.cells[Key{"Net", alg, col}].acc_seed = {"0"};
  if (paper) g.paper[Key{"Net", alg, col}] = PaperValue{fmt::format("{}", *paper), *paper};
}

ReportSpec spec() {
  ReportSpec s;
  s.models = {"Net"};
  s.algorithms = {"BP", "LR"};
  s.columns = {"Ori", "FGSM", "Noise", "Mask"};
  return s;
}

}  // namespace

TEST(ReversalMarks, MarkOnlyWhereTheOrderingAgainstBpFlips) {
  Gathered g;
  // Paper: LR keeps more under FGSM (0.5 vs 0.3 retention) and under Noise (0.9 vs 0.8).
  put(g, "BP", "Ori", 80, 90), put(g, "LR", "Ori", 40, 80);
  put(g, "BP", "FGSM", 40, 27), put(g, "LR", "FGSM", 10, 40);   // ours: LR 0.25 vs BP 0.5 -> reversed
  put(g, "BP", "Noise", 72, 72), put(g, "LR", "Noise", 38, 72);  // ours: LR 0.95 vs BP 0.9 -> same order
  put(g, "BP", "Mask", 80, 81), put(g, "LR", "Mask", 39.6, 72);  // ours: LR 0.99 vs BP 1.0: within the margin
  size_t comparable = 0;
  auto marked = reversed_cells(spec(), g, &comparable);
  EXPECT_EQ(comparable, 3u);
  ASSERT_EQ(marked.size(), 1u);
  const auto& [key, r] = *marked.begin();
  EXPECT_EQ(key, (Key{"Net", "LR", "FGSM"}));
  EXPECT_NEAR(r.ours, 0.25 - 0.5, 1e-9);
  EXPECT_NEAR(r.paper, 0.5 - 0.3, 1e-9);
  EXPECT_NE(reversal_legend(marked.size(), comparable).find("marks 1 of 3 cells"), std::string::npos);
}

TEST(ReversalMarks, NeedsBothOursAndThePapersFourValues) {
  Gathered g;
  put(g, "BP", "Ori", 80, std::nullopt), put(g, "LR", "Ori", 40, 80);
  put(g, "BP", "FGSM", 40, 27), put(g, "LR", "FGSM", 10, 40);
  size_t comparable = 7;
  EXPECT_TRUE(reversed_cells(spec(), g, &comparable).empty());
  EXPECT_EQ(comparable, 0u);
}
