// APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
// parameter-free attacks"), L-inf, images in [0,1]: the engine shared by apgd-ce, apgd-t and autoattack.
// Source: fra31/auto-attack autoattack/autopgd_base.py (commit a392200), APGDAttack.attack_single_run and
// perturb, APGDAttack_targeted.perturb. The engine repeats the reference operation for operation — the
// random start x + eps * t / max|t| with t = 2 U[0,1) - 1 drawn as one tensor of the subset's shape, the
// momentum 0.75 step with both projections, the checkpoints p_j (first after max(0.22 n_iter, 1)
// iterations, then shrinking by 0.03 n_iter down to 0.06 n_iter), the oscillation test with rho, step
// halving that restarts from the best point, and even the reference's wrap-around read of the loss
// history at the first checkpoint — so that with the same generator state it gives the reference's
// adversarial examples (tests/unit/threats/autoattack_golden_test.cpp, from tools/golden_autoattack.py).
// Deviations: the L2/L1 norms, EOT and use_largereps are not offered (L-inf only); the generator is the
// evaluator's per-threat stream (seeded from the suite's seed), not torch's global one reset by each call;
// `early_stop` (default on, see Options) stops computing examples already fooled: the same robust accuracy,
// several times faster on undefended models.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/batch.h"
#include "core/config.h"
#include "threats/victim.h"

namespace lrb::apgd {

struct Options {
  double eps = 8.0 / 255.0;
  int64_t n_iter = 100;
  int64_t n_restarts = 1;
  double rho = 0.75;             // oscillation threshold of the step-size checkpoints
  int64_t n_target_classes = 9;  // apgd-t only
  // Stop forwarding an example once it is misclassified (true: lrbench's default). On a deterministic model
  // the robust/fooled verdict of every example is the reference's — each row's trajectory is its own, and a
  // fooled row stays fooled — but the image kept for a fooled row is the iterate that first fooled it, where
  // the reference keeps iterating and returns the last misclassified one. false: the reference's images
  // (golden test). Ignored while the Victim's noise is on (eval.noise): a noisy verdict is not final.
  bool early_stop = true;
  void read(const Config& c, bool targeted);
  std::string params(bool targeted) const;
};

// Per-example losses of the reference (autopgd_base.py): cross-entropy, the DLR loss and its targeted form.
torch::Tensor ce_loss(const torch::Tensor& logits, const torch::Tensor& y);
torch::Tensor dlr_loss(const torch::Tensor& logits, const torch::Tensor& y);
torch::Tensor dlr_targeted_loss(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& y_target);

// One run of attack_single_run on `clean` (every row attacked). Returns the reference's x_best_adv: for
// each example the last iterate that was misclassified, else the random start; and which were fooled.
struct Run {
  torch::Tensor x_adv;   // like clean.x
  torch::Tensor fooled;  // bool [B]
};
// loss(logits, rows): per-example losses of the rows `rows` of `clean` (undefined: all rows, in order).
using RowLoss = std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& rows)>;
Run single_run(Victim& victim, const Batch& clean, const RowLoss& loss, const Options& o, at::Generator& gen);

// The reference's perturb(): only the examples the model gets right are attacked, restart after restart
// on those still right. Untargeted: `loss` "ce" or "dlr". Targeted (APGD-T): the DLR-targeted loss towards
// the 2nd, 3rd, ... (n_target_classes + 1)-th highest clean logit in turn.
Batch untargeted(Victim& victim, const Batch& clean, const std::string& loss, const Options& o, at::Generator& gen);
Batch targeted(Victim& victim, const Batch& clean, const Options& o, at::Generator& gen);

// Examples of `clean` whose prediction is still their label, on `x` (bool [B]); one query each.
torch::Tensor still_correct(Victim& victim, const Batch& clean, const torch::Tensor& x);

}  // namespace lrb::apgd
