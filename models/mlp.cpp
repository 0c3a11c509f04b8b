// mlp: fully connected classifier, input -> hidden... -> classes. Options: hidden (list of widths,
// default [256]), activation (relu|tanh|sigmoid, default relu). PyTorch default initialisation.
#include <torch/torch.h>

#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "models/normalize.h"

namespace lrb {

struct MlpOptions {
  std::vector<int64_t> hidden{256};
  std::string activation = "relu";
  static MlpOptions from(const Config& c) {
    MlpOptions o;
    c.has("name");
    c.read("hidden", o.hidden, Range::at_least(1));
    c.read_choice("activation", o.activation, {"relu", "tanh", "sigmoid"});
    return o;
  }
};

class MlpImpl : public ClassifierImpl, public LayeredModel {
 public:
  MlpImpl(const MlpOptions& o, const ModelContext& ctx) : o_(o) {
    int64_t in = 1;
    for (auto d : ctx.input.shape) in *= d;
    std::vector<int64_t> widths = o.hidden;
    widths.push_back(ctx.num_classes);
    for (size_t i = 0; i < widths.size(); ++i) {
      fc_.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(in, widths[i])));
      in = widths[i];
    }
    register_normalization(*this, ctx.input.mean, ctx.input.std, mean_, std_);
  }

  torch::Tensor forward(const Batch& b) override { return trace(b).logits; }
  std::string key() const override { return "mlp"; }
  Modality modality() const override { return Modality::kImage; }

  std::vector<PerturbableLayer> layers() override {
    std::vector<PerturbableLayer> out;
    for (size_t i = 0; i < fc_.size(); ++i) out.push_back({"fc" + std::to_string(i), fc_[i], nullptr});
    return out;
  }

  ForwardTrace trace(const Batch& b) override {
    ForwardTrace t;
    auto x = normalize(b.x, mean_, std_).flatten(1);
    for (size_t i = 0; i < fc_.size(); ++i) {
      t.inputs.push_back(x);
      x = fc_[i](x);
      if (i + 1 < fc_.size()) x = act(x);
    }
    t.logits = x;
    return t;
  }

  torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace&, int64_t) override {
    auto x = z;
    for (size_t i = l; i < fc_.size(); ++i) {
      if (static_cast<int>(i) != l) x = call_layer(static_cast<int>(i), fc_[i], x);
      if (i + 1 < fc_.size()) x = act(x);
    }
    return x;
  }

 private:
  torch::Tensor act(const torch::Tensor& x) const {
    if (o_.activation == "tanh") return torch::tanh(x);
    if (o_.activation == "sigmoid") return torch::sigmoid(x);
    return torch::relu(x);
  }
  MlpOptions o_;
  std::vector<torch::nn::Linear> fc_;
  torch::Tensor mean_, std_;
};
TORCH_MODULE(Mlp);

LRB_REGISTER(ClassifierImpl, "mlp", "fully connected net: input -> hidden... -> classes (hidden, activation)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<MlpImpl>(MlpOptions::from(c), ctx);
             });

}  // namespace lrb
