// lstm: LSTM text classifier, torch.nn.LSTM's equations (gate blocks i, f, g, o in that order):
//   i = σ(·_i), f = σ(·_f), g = tanh(·_g), o = σ(·_o) of u + v,  c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t),
// with u = W_ih x_t + b_ih and v = W_hh h_{t-1} + b_hh. No peepholes, no projection.
// Everything else (embedding, last true state, head, defaults, LR sites) is models/recurrent.h.
#include <torch/torch.h>

#include "core/registry.h"
#include "models/recurrent.h"

namespace lrb {

class LstmImpl : public RecurrentClassifier {
 public:
  LstmImpl(const RecurrentOptions& o, const ModelContext& ctx) : RecurrentClassifier(o, ctx, 4, "lstm") {}

 protected:
  bool has_cell_state() const override { return true; }
  State step(const torch::Tensor& u, const torch::Tensor& v, const State& s) const override {
    auto g = (u + v).chunk(4, 1);
    auto c = torch::sigmoid(g[1]) * s.c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
    return {torch::sigmoid(g[3]) * torch::tanh(c), c};
  }
};

LRB_REGISTER(ClassifierImpl, "lstm", "LSTM text classifier: embedding -> LSTM -> last true state -> linear",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<LstmImpl>(RecurrentOptions::from(c), ctx);
             });

}  // namespace lrb
