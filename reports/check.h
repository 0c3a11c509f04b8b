// Accuracy checks of a report's long table against expected values: the CI regression tier
// (`lrbench report NAME RUNS --check reports/expected/regression.csv`) and the slow tier (`make tableN CHECK=1`:
// --check results/tableN.csv, --check-paper PP). Accuracies and tolerances are percentage points.
//
// A cell is (model, algorithm, metric, mode, threat_params): a sweep's per-value rows (Table 3's edge rates,
// Table 1's eps) are cells of their own. It passes when |got - expected| <= tolerance; a cell expected but not
// produced is an offender ("missing"); a cell produced but not expected is counted, not failed (a new threat
// needs new expected values, which tools/update_expected.sh writes).
//
// Expected files come in two formats, told apart by their header:
//   regression  table,model,algorithm,metric,mode,threat_params,expected,tolerance,per_seed,n,dataset,commit
//               (reports/expected/regression.csv, written by `report --update-expected`, never by hand)
//   report      the long CSV `lrbench report` writes (accuracy, std columns): expected = accuracy,
//               tolerance = max(--tolerance, 2 x std where the file has a std over several seeds)
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/csv.h"

namespace lrb {

struct ExpectedCell {
  std::string model, algorithm, metric, mode = "white-box", threat_params;
  double expected = 0, tolerance = 0;
};

struct ExpectedSet {
  std::string label;  // where the values come from, for messages: a path, or "the paper"
  std::vector<ExpectedCell> cells;
};

// Throws DataError (file, row, column) for a malformed file; ConfigError when the file has no cell of
// `table` (regression format: a check that compares nothing must not pass) or a report-format file is given
// without tolerance_pp.
ExpectedSet load_expected(const std::string& path, const std::string& table, std::optional<double> tolerance_pp);
// Expected = the paper column of a long table (cells without a paper value are not compared); `metrics` limits
// the comparison to those columns (empty = all), e.g. {"Ori"} where attacks differ from the paper's by design.
ExpectedSet paper_expected(const CsvTable& long_table, double tolerance_pp, const std::vector<std::string>& metrics = {});

struct Offender {
  ExpectedCell cell;
  std::optional<double> got;  // nullopt: the cell was not produced
};

struct CheckResult {
  std::string label;
  size_t compared = 0, unexpected = 0;
  std::vector<Offender> offenders;
  bool ok() const { return offenders.empty(); }
};

// `got` is a long table as make_report writes it (model, algorithm, metric, accuracy, threat_params; mode optional).
CheckResult check_cells(const ExpectedSet& expected, const CsvTable& got);

// One summary line, then (if any) an aligned table of the offending cells: cell, expected, got, tolerance.
std::string format_check(const CheckResult& r);

// The regression file with `table`'s rows replaced by the cells of `long_table`: expected = seed 0's value
// (the seed CI runs), tolerance = max(largest seed-to-seed difference, one example = 100/n), rounded up to
// 0.01. Rows of other tables are kept. Throws ConfigError when a cell has fewer than 2 seeds (no spread to
// measure: run with SEEDS=3) or no seed 0.
CsvTable updated_expected(const std::string& path, const std::string& table, const CsvTable& long_table);

}  // namespace lrb
