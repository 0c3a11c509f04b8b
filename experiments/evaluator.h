// Evaluation of a finished run: load its checkpoint, then measure accuracy on the clean test set ("Ori")
// and under every threat of a suite (experiments/suites/*.yaml) or of one --threat. Writes long-format CSV
// (one row per metric) atomically.
//
// Threat protocol (docs/ATTACKS.md): the first eval.n_examples test examples in file order (0 = all; a suite
// entry's own n_examples overrides it for that threat, e.g. 200 for text attacks);
// corruptions draw per example from (suite seed, example index), so every model sees the same inputs;
// attacks run through a Victim: eval mode, input gradient by autograd through the same architecture with
// no training noise (deterministic white-box, also for LR/ES-trained models); text attacks query only
// output probabilities. Threats see the data through a ThreatContext (text: the vocabulary and the test
// rows' sentences), passed to Threat::check and Attack::bind before the first batch.
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
      "model_key",  "trainer_key", "threat_key", "queries",  "seconds",    "mode",
      // gradient attacks on the evaluated model (blank otherwise): of the grad_n examples whose first input
      // gradient was taken (an attack skips those already misclassified), how many had it exactly zero (masking
      // check 4)
      "zero_grad",  "grad_n",
      // text attacks (blank otherwise), TextAttack's attack summary: examples attacked (the originally correct
      // ones; the rest are skipped), successful attacks of those (%), words changed in a successful attack (% of
      // the text's words, mean), model queries per attacked example (mean)
      "attacked",   "attack_success_rate", "words_changed_pct", "queries_per_example"};
  return cols;
}

struct EvalRequest {
  std::string run_dir;
  std::string suite;                   // suite name or path; empty with empty `threat`: clean accuracy only
  std::string threat;                  // --threat NAME (one threat, settings as threat.k=v overrides)
  std::vector<std::string> overrides;  // eval.k=v (n_examples, batch_size, seed), threat.k=v
  std::string out_csv;                 // default <run>/eval/<suite|threat|clean>.csv
  // --examples: one JSON object per line for every example a text attack (pwws, ga) attacked, written
  // atomically: {"threat", "params", "index" (test row), "label", "original" and "adversarial" (the model's
  // words, same length), "changed" (positions), "queries", "success", "p_original", "p_adversarial" (the
  // probability of the label)}. Examples the model already got wrong are not attacked and not listed.
  // A ConfigError before any work when no threat of the run is a text attack.
  std::string examples_jsonl;
  // --source RUN: transfer (black-box) mode, docs/ATTACKS.md §5. Every attack crafts its inputs on that run's
  // model (same dataset; e.g. the BP checkpoint of the same seed) and the evaluated run only classifies them, so
  // a model whose own gradient is useless (masked, or absent: a spiking net without surrogate) is still attacked.
  // Only attacks run (corruptions never see a model); rows carry mode "transfer from <ALG>" (white-box rows:
  // "white-box") and go to RUN_DIR/eval/<suite|threat>.transfer.csv by default.
  std::string source_run;
  // --match RUN: evaluate this (BP) run's snapshot whose clean accuracy on the snapshots' split is nearest RUN's
  // (experiments/snapshots.h) instead of its final checkpoint. Rows carry mode "matched to <ALG>" and go to
  // RUN_DIR/eval/<suite|threat>.matched-<trainer>.csv, the choice to .matched-<trainer>.json. When no snapshot is
  // within kMatchTolerancePp the .json says so (nearest, target), nothing else is written and the table is empty.
  std::string match_run;
};

// Evaluates and returns the table (the suite's sweep, if any, goes to <out stem>.sweep.csv).
// Throws CheckpointError (missing run/checkpoint), ConfigError (unknown threat, bad setting, a threat that
// does not fit the dataset's modality; all before any work), GradientError (a model without input gradient).
CsvTable evaluate(const EvalRequest& request);

// Clean accuracy only: <run>/eval/clean.csv (or out_csv).
inline CsvTable evaluate_run(const std::string& run_dir, const std::string& out_csv = "") {
  EvalRequest request;
  request.run_dir = run_dir;
  request.out_csv = out_csv;
  return evaluate(request);
}

}  // namespace lrb
