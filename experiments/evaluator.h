// Evaluation of a finished run: load its checkpoint, measure clean test accuracy, write long-format CSV.
#pragma once
#include <string>

#include "core/csv.h"

namespace lrb {

// Columns of every result row (fixed order; accuracy in percent as in the paper's tables).
inline const std::vector<std::string>& result_columns() {
  static const std::vector<std::string> cols = {"model",     "algorithm", "metric",   "accuracy",     "dataset",
                                                "seed",      "n",         "n_correct", "git_commit",  "spec_hash",
                                                "epoch",     "threat_params"};
  return cols;
}

// Evaluates the run in `run_dir` (config.resolved.yaml + checkpoint.pt); writes `out_csv`
// (default <run_dir>/eval/clean.csv) atomically and returns the table.
CsvTable evaluate_run(const std::string& run_dir, const std::string& out_csv = "");

}  // namespace lrb
