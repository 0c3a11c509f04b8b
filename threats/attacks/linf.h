// Shared pieces of the L-inf attacks in [0,1] pixel space: the FGSM family (formulas of torchattacks 3.5.1,
// attacks/fgsm.py, bim.py, mifgsm.py; docs/ATTACKS.md §1) and the restart/stage loop of AutoAttack's attacks.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "threats/threat.h"

namespace lrb::linf {

// One signed step: x + alpha * sign(direction). sign(0) = sign(NaN) = 0, so a zero or undefined
// direction leaves that pixel where it is.
inline torch::Tensor sign_step(const torch::Tensor& x, const torch::Tensor& direction, double alpha) {
  return x + alpha * direction.sign();
}

// Back into the eps-ball around `clean`, then into [0,1]. TA's mifgsm.py writes exactly this; bim.py
// writes min(max(x', x-eps), x+eps) instead, which agrees to within 1 ulp (docs/ATTACKS.md §1.2-1.3).
inline torch::Tensor project(const torch::Tensor& x_new, const torch::Tensor& clean, double eps) {
  return torch::clamp(clean + torch::clamp(x_new - clean, -eps, eps), 0.0, 1.0).detach();
}

// Settings every attack of the family shares. The defaults are the paper's CIFAR-10 setting
// (Table 1: eps 8/255, at most 5 iterations) with TA's step size 2/255.
struct Budget {
  double eps = 8.0 / 255.0;
  double alpha = 2.0 / 255.0;
  int64_t steps = 5;
  void read(const Config& c, bool iterative) {
    c.read("eps", eps, Range::between(0.0, 1.0));
    if (!iterative) return;
    c.read("alpha", alpha, Range::between(0.0, 1.0));
    c.read("steps", steps, Range::between(1, 100000));  // as APGD's n_iter: more is a hang, not an attack
  }
  std::string params(bool iterative) const {
    std::string s = "eps=" + param_number(eps);
    if (iterative) s += ";alpha=" + param_number(alpha) + ";steps=" + std::to_string(steps);
    return s;
  }
};

// Spike inputs are float rates in [0,1] too, so the same pixel-space attack applies.
inline std::vector<Modality> modalities() { return {Modality::kImage, Modality::kSpike}; }

// `clean` with its inputs replaced by `x` (labels and everything else kept).
inline Batch with_x(const Batch& clean, const torch::Tensor& x) {
  Batch out = clean;
  out.x = x.detach();
  return out;
}

// AutoAttack's restart and stage loop: attacks the rows of `clean` still marked in `robust` (bool [B]) with
// `run`, which gets those rows as one batch and returns {their adversarial images, which of them are fooled};
// a fooled row leaves `robust` and keeps its image in `adv`. Returns the rows attacked (empty: none was left).
template <class Run>
torch::Tensor attack_robust_rows(const Batch& clean, torch::Tensor& adv, torch::Tensor& robust, Run&& run) {
  auto ind = robust.nonzero().squeeze(1);
  if (ind.numel() == 0) return ind;
  auto [x, fooled] = run(clean.rows(ind));
  auto newly = ind.index({fooled});
  robust.index_put_({newly}, false);
  adv.index_put_({newly}, x.index({fooled}));
  return ind;
}

}  // namespace lrb::linf
