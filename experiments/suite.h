// Evaluation suites: which threats, with which settings, a checkpoint is evaluated under.
//   experiments/suites/<name>.yaml:
//     name: table1
//     eval: {n_examples: 0, batch_size: 500, seed: 0}   # 0 = the whole test set, as the paper
//     threats: [{name: fgsm, eps: 0.0313725}, ...]         # the table's columns
//     sweep:   [{name: fgsm, eps: [0.0078, 0.0157]}]       # extra curves (accuracy vs a setting)
// A list value expands to one threat per value (several lists: their product, in file order).
// Any threat entry may set `n_examples: N` (>= 0; 0 = the whole test set): that threat is evaluated on the
// first N test examples instead of eval.n_examples (the paper: attacks on 200 AG News examples, corruptions on
// 1,000). The key belongs to the suite, not to the threat, so it is not in threat_params; the CSV's n column
// says how many examples each row counted. With --threat, `threat.n_examples=N` does the same.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "threats/threat.h"

namespace lrb {

struct SuiteThreat {
  NodePtr config;                  // one threat's map (name + scalar settings), with its file:line
  std::unique_ptr<Threat> threat;  // built and checked (unknown keys and bad ranges fail at load)
  int64_t n_examples = -1;         // the entry's n_examples (0 = all); -1: none given, eval.n_examples applies
  // The entry's `transfer` (default true): false keeps an attack out of transfer evaluations (lrbench eval
  // --source), e.g. Square and AutoAttack, which are black-box already or would only repeat their white-box cost.
  bool transfer = true;
};

struct Suite {
  std::string name;                // output file stem: <run>/eval/<name>.csv (+ .sweep.csv)
  std::string file;
  int64_t n_examples = 0, batch_size = 500;
  uint64_t seed = 0;               // threat randomness; the same for every model so all see the same inputs
  // eval.noise: on keeps the model's training noise on at inference (Victim::Noise): predictions average
  // eval.noise_samples noisy passes, gradient attacks average eval.eot_iter noisy gradients (EOT).
  bool noise = false;
  int64_t noise_samples = 20, eot_iter = 20;
  std::vector<SuiteThreat> threats, sweep;
};

// Finds a suite by path or by name (experiments/suites/<name>.yaml beside the source tree or install).
std::string find_suite(const std::string& name_or_path);
// Loads and applies key=value overrides (eval.n_examples=200, threats.0.eps=0.01 is not supported: use
// --threat for one-off settings). Throws ConfigError naming file:line for any bad entry.
Suite load_suite(const std::string& path, const std::vector<std::string>& overrides);
// A one-threat suite from `--threat NAME` and overrides `threat.k=v` / `eval.k=v`.
Suite single_threat_suite(const std::string& name, const std::vector<std::string>& overrides);
// No threats (clean accuracy only); overrides may set eval.k=v.
Suite clean_suite(const std::vector<std::string>& overrides);
// ConfigError (at the threat's file:line; one line) for the first threat that does not apply to modality `m`
// (a text attack on image data, an image corruption on text), or whose settings do not fit the data
// (Threat::check, when `ctx` is given). The evaluator calls it without `ctx` before any data is read.
void check_fits(const Suite& suite, Modality m, const std::string& dataset, const ThreatContext* ctx = nullptr);
// Expands list-valued settings of one threat map into one map per combination.
std::vector<NodePtr> expand_threat(const NodePtr& entry);

}  // namespace lrb
