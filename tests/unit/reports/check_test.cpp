// Accuracy checks (reports/check.h): bands, missing cells, the two expected-file formats and the writer of
// reports/expected/regression.csv.
#include "reports/check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb {
namespace {

namespace fs = std::filesystem;

struct TempFile {
  std::string path = (fs::temp_directory_path() / ("lrb-check-test-" + std::to_string(::getpid()) + "-" +
                                                   std::to_string(counter++) + ".csv")).string();
  ~TempFile() { fs::remove(path); }
  static inline int counter = 0;
};

// A long table as make_report writes it: two seeds per cell, one sweep row.
CsvTable long_table() {
  CsvTable t({"model", "algorithm", "metric", "accuracy", "paper", "delta", "n", "seeds", "std", "dataset",
              "threat_params", "git_commit", "mode", "per_seed"});
  t.add({"GCN", "BP", "Ori", "81.00", "80.40", "0.60", "1000", "3", "0.50", "cora", "", "abc", "white-box",
         "0:81.00 1:80.20 2:81.40"});
  t.add({"GCN", "BP", "DICE", "70.00", "", "", "1000", "3", "1.00", "cora", "rate=0.5", "abc", "white-box",
         "0:70.00 1:69.00 2:71.00"});
  t.add({"GCN", "LR", "Ori", "60.00", "72.00", "-12.00", "200", "3", "", "cora", "", "abc", "transfer from BP",
         "0:60.00 1:60.00 2:60.00"});
  return t;
}

TEST(Check, UpdatedExpectedTakesSeedZeroAndTheSpreadOrOneExample) {
  TempFile f;
  const CsvTable e = updated_expected(f.path, "table3", long_table());
  ASSERT_EQ(e.rows().size(), 3u);
  EXPECT_EQ(e.rows()[0][6], "81.00");  // seed 0, not the mean
  EXPECT_EQ(e.rows()[0][7], "1.20");   // 81.40 - 80.20
  EXPECT_EQ(e.rows()[1][5], "rate=0.5");
  EXPECT_EQ(e.rows()[1][7], "2.00");
  EXPECT_EQ(e.rows()[2][4], "transfer from BP");
  EXPECT_EQ(e.rows()[2][7], "0.50");   // no spread: one example of 200 = 0.5 pp
}

TEST(Check, UpdateKeepsOtherTablesAndReplacesItsOwn) {
  TempFile f;
  write_text_atomic(f.path, updated_expected(f.path, "table3", long_table()).str());
  CsvTable one({"model", "algorithm", "metric", "accuracy", "n", "dataset", "threat_params", "git_commit", "per_seed"});
  one.add({"SNN-MNIST", "BP", "Ori", "90.00", "500", "mnist", "", "abc", "0:90.00 1:91.00"});
  write_text_atomic(f.path, updated_expected(f.path, "table4", one).str());
  write_text_atomic(f.path, updated_expected(f.path, "table4", one).str());  // again: replaced, not appended
  const CsvTable e = CsvTable::load(f.path);
  ASSERT_EQ(e.rows().size(), 4u);
  EXPECT_EQ(e.rows()[3][0], "table4");
  EXPECT_EQ(e.rows()[3][4], "white-box");  // a long CSV without mode column is white-box
}

TEST(Check, UpdateRefusesOneSeed) {
  TempFile f;
  CsvTable t = long_table();
  CsvTable one(t.header());
  auto r = t.rows()[0];
  r[13] = "0:81.00";
  one.add(r);
  EXPECT_THROW(updated_expected(f.path, "table3", one), ConfigError);
}

TEST(Check, InsideTheBandPassesOutsideFailsWithATable) {
  TempFile f;
  write_text_atomic(f.path, updated_expected(f.path, "table3", long_table()).str());
  const auto expected = load_expected(f.path, "table3", std::nullopt);
  ASSERT_EQ(expected.cells.size(), 3u);
  EXPECT_TRUE(check_cells(expected, long_table()).ok());

  CsvTable moved(long_table().header());
  auto rows = long_table().rows();
  rows[0][3] = "82.20";  // +1.20 = exactly the band: passes
  rows[1][3] = "67.99";  // -2.01 > 2.00: fails
  for (auto& r : rows) moved.add(r);
  const CheckResult r = check_cells(expected, moved);
  EXPECT_EQ(r.compared, 3u);
  ASSERT_EQ(r.offenders.size(), 1u);
  EXPECT_EQ(r.offenders[0].cell.metric, "DICE");
  const std::string text = format_check(r);
  EXPECT_NE(text.find("1 of 3 cells outside"), std::string::npos) << text;
  EXPECT_NE(text.find("GCN / BP / DICE (rate=0.5)"), std::string::npos) << text;
  EXPECT_NE(text.find("70.00"), std::string::npos) << text;
  EXPECT_NE(text.find("67.99"), std::string::npos) << text;
  EXPECT_NE(text.find("±2.00"), std::string::npos) << text;
}

TEST(Check, AMissingCellFailsAndANewOneIsOnlyCounted) {
  TempFile f;
  write_text_atomic(f.path, updated_expected(f.path, "table3", long_table()).str());
  CsvTable fewer(long_table().header());
  fewer.add(long_table().rows()[0]);
  auto extra = long_table().rows()[0];
  extra[2] = "RA";
  fewer.add(extra);
  const CheckResult r = check_cells(load_expected(f.path, "table3", std::nullopt), fewer);
  EXPECT_EQ(r.offenders.size(), 2u);
  EXPECT_FALSE(r.offenders[0].got.has_value());
  EXPECT_EQ(r.unexpected, 1u);
  EXPECT_NE(format_check(r).find("missing"), std::string::npos);
}

TEST(Check, NoCellOfTheTableIsAnErrorNotAPass) {
  TempFile f;
  write_text_atomic(f.path, updated_expected(f.path, "table3", long_table()).str());
  EXPECT_THROW(load_expected(f.path, "table1", std::nullopt), ConfigError);
}

TEST(Check, ReportFormatUsesTheToleranceWidenedByStd) {
  TempFile f;
  write_text_atomic(f.path, long_table().str());
  EXPECT_THROW(load_expected(f.path, "table3", std::nullopt), ConfigError);
  const auto e = load_expected(f.path, "table3", 0.5);
  ASSERT_EQ(e.cells.size(), 3u);
  EXPECT_DOUBLE_EQ(e.cells[0].tolerance, 1.0);  // 2 x std 0.50
  EXPECT_DOUBLE_EQ(e.cells[1].tolerance, 2.0);
  EXPECT_DOUBLE_EQ(e.cells[2].tolerance, 0.5);  // no std: the given tolerance
}

TEST(Check, PaperComparesOnlyCellsWithAPaperValue) {
  const auto e = paper_expected(long_table(), 5.0);
  ASSERT_EQ(e.cells.size(), 2u);
  const CheckResult r = check_cells(e, long_table());
  ASSERT_EQ(r.offenders.size(), 1u);  // GCN/LR/Ori: 60 vs 72, 12 pp > 5
  EXPECT_EQ(r.offenders[0].cell.algorithm, "LR");
  EXPECT_EQ(r.unexpected, 1u);
}

TEST(Check, PaperMetricsLimitTheColumns) {
  const CsvTable base = long_table();
  CsvTable t(base.header());
  for (auto r : base.rows()) {
    if (r[2] == "Ori" && r[1] == "LR") r[2] = "FGSM";  // the far-off cell becomes an attack column
    t.add(r);
  }
  EXPECT_FALSE(check_cells(paper_expected(t, 5.0), t).ok());
  const auto only_ori = paper_expected(t, 5.0, {"Ori"});
  EXPECT_EQ(only_ori.cells.size(), 1u);
  EXPECT_TRUE(check_cells(only_ori, t).ok());
  EXPECT_NE(only_ori.label.find("Ori"), std::string::npos);
}

TEST(Check, MalformedExpectedNamesFileAndColumn) {
  TempFile f;
  write_text_atomic(f.path, updated_expected(f.path, "table3", long_table()).str());
  CsvTable t = CsvTable::load(f.path);
  CsvTable bad(t.header());
  auto r = t.rows()[0];
  r[7] = "wide";
  bad.add(r);
  write_text_atomic(f.path, bad.str());
  try {
    load_expected(f.path, "table3", std::nullopt);
    FAIL() << "no throw";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(f.path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tolerance"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lrb
