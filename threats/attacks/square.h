// Square attack (Andriushchenko et al. 2020, "Square Attack: a query-efficient black-box adversarial attack
// via random search"), L-inf, score-based: it reads only the logits, never a gradient, so gradient masking
// cannot fool it. Source: fra31/auto-attack autoattack/square.py (commit a392200), SquareAttack with
// norm 'Linf', loss 'margin', untargeted: vertical-stripe start, the p schedule over the iteration count,
// one square of side s = round(sqrt(p * n_features / c)) per iteration with a per-channel sign, accepted
// per example when the margin loss falls (or the example is misclassified).
// Deviations and choices:
//  * The p schedule is AutoAttack's (`resc_schedule` off): p halves at iterations 10, 50, 200, 500, 1000,
//    2000, 4000, 6000 and 8000 whatever n_queries is. torchattacks' Square rescales it to n_queries by
//    default (resc_schedule=True); set `rescale_schedule: true` for that. With n_queries below 5000 the
//    AutoAttack schedule never reaches its small squares — the price of a CPU budget, stated in params.
//  * Like the reference, each iteration draws ONE square position and one sign per channel for all the
//    examples still being attacked, so results depend on the batch (eval.batch_size) as AutoAttack's do.
//  * The generator is the evaluator's per-threat stream, not torch's global one reset by each call.
//  * Images [B,C,H,W] only (the reference's assumption); anything else is refused by check().
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "core/batch.h"
#include "core/config.h"
#include "threats/victim.h"

namespace lrb::square {

struct Options {
  double eps = 8.0 / 255.0;
  int64_t n_queries = 5000;
  double p_init = 0.8;
  int64_t n_restarts = 1;
  bool rescale_schedule = false;
  void read(const Config& c);
  std::string params() const;
};

// The reference's p_selection(it).
double p_selection(const Options& o, int64_t it);

// perturb(): the examples the model gets right are attacked; returns the batch with every fooled example's
// adversarial image (the others unchanged). `queries_out` (optional, [B] float) receives each example's
// query count of its last run (0 for examples not attacked), AutoAttack's n_queries.
Batch perturb(Victim& victim, const Batch& clean, const Options& o, at::Generator& gen,
              torch::Tensor* queries_out = nullptr);

}  // namespace lrb::square
