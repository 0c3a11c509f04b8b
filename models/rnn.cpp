// rnn: Elman recurrent classifier for text (torch.nn.RNN, nonlinearity tanh):
//   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
// Everything else (embedding, last true state, head, defaults, LR sites) is models/recurrent.h.
#include <torch/torch.h>

#include "core/registry.h"
#include "models/recurrent.h"

namespace lrb {

class RnnImpl : public RecurrentClassifier {
 public:
  RnnImpl(const RecurrentOptions& o, const ModelContext& ctx) : RecurrentClassifier(o, ctx, 1, "rnn") {}

 protected:
  State step(const torch::Tensor& u, const torch::Tensor& v, const State&) const override { return {torch::tanh(u + v), {}}; }
};

LRB_REGISTER(ClassifierImpl, "rnn", "Elman RNN (tanh) text classifier: embedding -> RNN -> last true state -> linear",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<RnnImpl>(RecurrentOptions::from(c), ctx);
             });

}  // namespace lrb
