// Reading what a report is made of: the eval CSVs under a runs directory (experiments/evaluator.h writes them)
// and the paper's values. Internal to lrb_reports.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/csv.h"

namespace lrb::report_detail {

using Key = std::tuple<std::string, std::string, std::string>;  // model, algorithm, metric

// One result row. `mode`: "white-box" (also for files written before the column existed) or a transfer mode
// such as "transfer from BP" (lrbench eval --source).
struct EvalRow {
  std::string model, algorithm, metric, dataset, seed, n, git_commit, threat_params, mode;
  double accuracy = 0;
  std::optional<double> seconds;
  std::optional<int64_t> zero_grad;  // examples whose first input gradient was exactly zero (gradient attacks)
  std::optional<int64_t> grad_n;     // ... of the examples whose gradient was taken
  // Text attacks (TextAttack's summary; files written before have none): success rate (%), words changed (%),
  // model queries per attacked example.
  std::optional<double> attack_success_rate, words_changed_pct, queries_per_example;
};

// The index of column `name`; throws DataError naming the file and the columns it has.
size_t column(const CsvTable& t, const std::string& file, const std::string& name);
// A finite number (locale-proof); throws DataError naming file, row and column.
double number(const std::string& s, const std::string& file, size_t row, const std::string& col);

std::vector<EvalRow> read_eval(const std::filesystem::path& path);

// Under `root`, every eval/<suite>.csv and eval/<suite>.transfer.csv (suite), and the .sweep.csv of both (sweep).
struct Found {
  std::vector<std::filesystem::path> suite, sweep;
  // Runs left out because their run.json says they have not finished ("RUN (status running)"): a report's cells
  // average finished runs only. A run without a readable run.json (results copied elsewhere) counts.
  std::vector<std::string> unfinished;
};
// Throws DataError naming a results path of the suite that is not a regular file (a directory, a FIFO).
Found find_eval_files(const std::filesystem::path& root, const std::string& suite);

struct PaperValue {
  std::string text;  // as printed in the paper ("64.4")
  double value = 0;
};
// model, algorithm, metric -> value; empty for an empty path, DataError for a missing file.
std::map<Key, PaperValue> load_paper(const std::string& path);

}  // namespace lrb::report_detail
