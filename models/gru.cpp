// gru: GRU text classifier, torch.nn.GRU's equations (gate blocks r, z, n in that order):
//   r = σ(u_r + v_r),  z = σ(u_z + v_z),  n = tanh(u_n + r ⊙ v_n),  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1},
// with u = W_ih x_t + b_ih and v = W_hh h_{t-1} + b_hh (so b_hn sits inside r ⊙ (·), as in PyTorch).
// Everything else (embedding, last true state, head, defaults, LR sites) is models/recurrent.h.
#include <torch/torch.h>

#include "core/registry.h"
#include "models/recurrent.h"

namespace lrb {

class GruImpl : public RecurrentClassifier {
 public:
  GruImpl(const RecurrentOptions& o, const ModelContext& ctx) : RecurrentClassifier(o, ctx, 3, "gru") {}

 protected:
  State step(const torch::Tensor& u, const torch::Tensor& v, const State& s) const override {
    auto ug = u.chunk(3, 1), vg = v.chunk(3, 1);
    auto r = torch::sigmoid(ug[0] + vg[0]);
    auto z = torch::sigmoid(ug[1] + vg[1]);
    auto n = torch::tanh(ug[2] + r * vg[2]);
    return {(1 - z) * n + z * s.h, {}};
  }
};

LRB_REGISTER(ClassifierImpl, "gru", "GRU text classifier: embedding -> GRU -> last true state -> linear",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<GruImpl>(RecurrentOptions::from(c), ctx);
             });

}  // namespace lrb
