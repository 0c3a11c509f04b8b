// Evaluation of a finished run: load its checkpoint, then measure accuracy on the clean test set ("Ori")
// and under every threat of a suite (experiments/suites/*.yaml) or of one --threat. Writes long-format CSV
// (one row per metric) atomically.
//
// Threat protocol (ATTACKS.md): the first eval.n_examples test examples in file order (0 = all);
// corruptions draw per example from (suite seed, example index), so every model sees the same inputs;
// attacks run through a Victim: eval mode, input gradient by autograd through the same architecture with
// no training noise (deterministic white-box, also for LR/ES-trained models).
#pragma once
#include <string>
#include <vector>

#include "core/csv.h"

namespace lrb {

// Columns of every result row (fixed order; accuracy in percent as in the paper's tables).
inline const std::vector<std::string>& result_columns() {
  static const std::vector<std::string> cols = {
      "model",      "algorithm", "metric",      "accuracy",  "dataset",    "seed",
      "n",          "n_correct", "git_commit",  "spec_hash", "epoch",      "threat_params",
      "model_key",  "trainer_key", "threat_key", "queries",  "seconds"};
  return cols;
}

struct EvalRequest {
  std::string run_dir;
  std::string suite;                   // suite name or path; empty with empty `threat`: clean accuracy only
  std::string threat;                  // --threat NAME (one threat, settings as threat.k=v overrides)
  std::vector<std::string> overrides;  // eval.k=v (n_examples, batch_size, seed), threat.k=v
  std::string out_csv;                 // default <run>/eval/<suite|threat|clean>.csv
};

// Evaluates and returns the table (the suite's sweep, if any, goes to <out stem>.sweep.csv).
// Throws CheckpointError (missing run/checkpoint), ConfigError (unknown threat, bad setting, a threat that
// does not fit the dataset's modality; all before any work), GradientError (a model without input gradient).
CsvTable evaluate(const EvalRequest& request);

// Clean accuracy only: <run>/eval/clean.csv (or out_csv).
inline CsvTable evaluate_run(const std::string& run_dir, const std::string& out_csv = "") {
  return evaluate(EvalRequest{run_dir, "", "", {}, out_csv});
}

}  // namespace lrb
