// Faults, kind 3 (reports): a run's text reaches gnuplot only inside string literals (a line break cannot end one
// and start a command), plot scripts live in a private temp folder, accuracies outside [0, 100] are refused with
// FILE:LINE, a results path that is a directory is an error, and only finished runs are averaged (the others are
// named in a note).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/fs.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "tests/unit/reports/fixtures.h"

using namespace lrb;
using namespace lrb::report_test;
namespace fs = std::filesystem;

// make_report on d's runs must fail with a DataError whose message holds `expected`.
void expect_report_error(const TempDir& d, const std::string& expected) {
  try {
    make_report(make_spec(d), options(d));
    ADD_FAILURE() << "accepted; expected an error with: " << expected;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(ReportFaults, GnuplotStringsHoldNoLineBreakOrUnescapedQuote) {
  for (const std::string evil : {"x'\nset print \"|touch /tmp/pwned\"\nprint 1\n#", "a\rb", "it's", "tab\there"}) {
    const auto lit = report_detail::gp_string(evil);
    EXPECT_EQ(lit.find('\n'), std::string::npos) << lit;
    EXPECT_EQ(lit.find('\r'), std::string::npos) << lit;
    ASSERT_GE(lit.size(), 2u);
    EXPECT_EQ(lit.front(), '\'');
    EXPECT_EQ(lit.back(), '\'');
    // Inside the literal every quote is doubled: no quote ends it early.
    const auto inner = lit.substr(1, lit.size() - 2);
    for (size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] != '\'') continue;
      EXPECT_TRUE(i + 1 < inner.size() && inner[i + 1] == '\'') << lit;
      ++i;
    }
  }
}

TEST(ReportFaults, ACraftedModelNameDoesNotRunCommandsThroughGnuplot) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot not installed";
  TempDir d;
  make_runs(d);
  const std::string marker = d / "pwned";
  // A model field with a line break and a gnuplot system() call, in the sweep file that is plotted (gnuplot ends an
  // unterminated string at the line's end, so the next line would run).
  write_eval(d / "runs/resnet5_lrwl_s0/eval/table1.sweep.csv",
             {{"ResNet-5\nsystem(\"touch " + marker + "\")\n#", "LR-WL", "FGSM", "30.00", "0", "eps=0.00392156862745098;steps=1"},
              {"ResNet-5", "LR-WL", "FGSM", "20.00", "0", "eps=0.0078431372549019;steps=1"}});
  size_t written = 0;
  ASSERT_NO_THROW(written = make_report(make_spec(d), options(d)).written.size());
  ASSERT_GT(written, 0u);
  EXPECT_FALSE(fs::exists(marker)) << "text from an eval CSV ran as a gnuplot command";
}

TEST(ReportFaults, AccuraciesOutsideZeroToHundredAreRefusedWithFileAndLine) {
  for (const std::string bad : {"250", "-5", "1e308", "100.01"}) {
    TempDir d;
    make_runs(d);
    write_eval(d / "runs/resnet5_lrwl_s1/eval/table1.csv", {{"ResNet-5", "LR-WL", "Ori", "42.32", "1"},
                                                            {"ResNet-5", "LR-WL", "FGSM", bad, "1", kFgsm}});
    expect_report_error(d, "resnet5_lrwl_s1/eval/table1.csv:3: column 'accuracy'");
  }
}

TEST(ReportFaults, AResultsPathThatIsADirectoryIsAnError) {
  TempDir d;
  make_runs(d);
  fs::create_directories(d / "runs/broken_s0/eval/table1.csv");
  expect_report_error(d, "broken_s0/eval/table1.csv: not a regular file");
}

TEST(ReportFaults, OnlyFinishedRunsAreAveragedAndTheOthersAreNamed) {
  TempDir d;
  make_runs(d);
  const auto all = make_report(make_spec(d), options(d)).long_table.rows();
  ASSERT_EQ(all[0][7], "2");  // ResNet-5/LR-WL/Ori from two seeds
  write_text_atomic(d / "runs/resnet5_lrwl_s1/run.json", "{\"status\": \"running\"}\n");
  write_text_atomic(d / "runs/resnet5_lrwl_s0/run.json", "{\"status\": \"finished\"}\n");
  auto res = make_report(make_spec(d), options(d));
  EXPECT_EQ(res.long_table.rows()[0][7], "1");
  EXPECT_EQ(res.long_table.rows()[0][3], "41.28");  // seed 0's value alone
  bool named = false;
  for (const auto& n : res.notes) named |= n.find("resnet5_lrwl_s1 (status running)") != std::string::npos;
  EXPECT_TRUE(named) << "the unfinished run is not named in a note";
}

// Run-derived text reaches the Markdown escaped: a crafted threat_params or notes string cannot add table cells,
// raw HTML or lines. (The HTML page escapes for HTML: html_test.)
TEST(ReportFaults, RunTextInTheMarkdownIsEscaped) {
  TempDir d;
  make_runs(d);
  write_eval(d / "runs/resnet5_lrwl_s1/eval/table1.csv",
             {{"ResNet-5", "LR-WL", "Ori", "42.32", "1"},
              {"ResNet-5", "LR-WL", "FGSM", "22.00", "1", "eps=1|<script>alert(1)</script>\n# injected"},
              {"X<img src=x onerror=alert(1)>|\n## owned", "LR-WL", "Ori", "1.00", "1"}});
  const auto md = make_report(make_spec(d), options(d)).markdown;
  EXPECT_EQ(md.find("\n# injected"), std::string::npos) << md;
  // A model name outside the report's models is named in a note: escaped text, no tag, no new heading.
  EXPECT_EQ(md.find("<img"), std::string::npos) << md;
  EXPECT_EQ(md.find("\n## owned"), std::string::npos) << md;
  EXPECT_NE(md.find("X&lt;img src=x onerror=alert(1)&gt;\\| ## owned/LR-WL/Ori"), std::string::npos) << md;
  // In a code span HTML is inert and the text stays verbatim, on one line.
  EXPECT_NE(md.find("`eps=1|<script>alert(1)</script> # injected`"), std::string::npos)
      << "threat parameters are shown as one code span on one line:\n" << md;
}
