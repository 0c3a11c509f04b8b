// vgg8: the paper's VGG-8 for CIFAR-10 (docs/PAPER.md §2.2, after fmmarkmq/LR_Test cnn/model.py @ 2af819e):
//   6 convs 16-16-32-32-64-64 (3x3, stride 1, pad 1, ReLU), max-pool 2 after conv 2, 4 and 6,
//   FC 1024->256 (ReLU) -> classes. No BatchNorm (the later FLOPS copy adds an affine-free BN; the copy
//   closest in time to the paper has none). PyTorch default init.
// Options: width (channel multiplier, default 1 = the paper).
// LR presets (docs/PAPER.md §2.2, §4): LR-WL weight noise on convs 1-4 (σ0 1e-3), logit noise on convs 5-6 and
// both FC (σ0 1e-2), copies [100,200,400,800,400,200,100,50]; LR-L logit noise everywhere (σ0 1e-2).
#include <torch/torch.h>

#include "core/registry.h"
#include "models/chain.h"
#include "models/classifier.h"
#include "models/normalize.h"

namespace lrb {

struct Vgg8Options {
  int64_t width = 1;
  static Vgg8Options from(const Config& c) {
    Vgg8Options o;
    c.has("name");
    c.read("width", o.width, Range::between(1, 64));
    return o;
  }
};

class Vgg8Impl : public ClassifierImpl, public ChainModel {
 public:
  Vgg8Impl(const Vgg8Options& o, const ModelContext& ctx) {
    TORCH_CHECK(ctx.input.shape.size() == 3 && ctx.input.shape[1] == 32 && ctx.input.shape[2] == 32,
                "vgg8 expects 32x32 images (got a dataset with another input shape)");
    const int64_t w = o.width;
    const std::vector<int64_t> channels = {ctx.input.shape[0], 16 * w, 16 * w, 32 * w, 32 * w, 64 * w, 64 * w};
    auto relu = [](const torch::Tensor& z, const Flow& f) { return f.relu(z); };
    auto relu_pool = [](const torch::Tensor& z, const Flow& f) { return f.relu_pool(z, 2); };
    for (int i = 0; i < 6; ++i) {
      auto name = "conv" + std::to_string(i);
      auto conv = register_module(
          name, torch::nn::Conv2d(torch::nn::Conv2dOptions(channels[i], channels[i + 1], 3).stride(1).padding(1)));
      if (i == 0)
        add_site({name, nullptr, conv}, [](const torch::Tensor& x, const Flow&) { return x; });
      else
        add_site({name, nullptr, conv}, i % 2 == 0 ? Glue(relu_pool) : Glue(relu));  // pool after conv 2, 4
    }
    auto fc0 = register_module("fc0", torch::nn::Linear(64 * w * 4 * 4, 256 * w));
    auto fc1 = register_module("fc1", torch::nn::Linear(256 * w, ctx.num_classes));
    add_site({"fc0", fc0, nullptr},
             [](const torch::Tensor& z, const Flow& f) { return f.relu_pool(z, 2).flatten(1); });
    add_site({"fc1", fc1, nullptr}, relu);
    register_normalization(*this, ctx.input.mean, ctx.input.std, mean_, std_);
    finish_chain(ctx.input.shape);
  }

  torch::Tensor forward(const Batch& b) override { return trace(b).logits; }
  std::string key() const override { return "vgg8"; }
  // Its passes only read the parameters: the LR engine may run chunks of copies on threads of their own.
  bool concurrent_copies() const override { return true; }
  Modality modality() const override { return Modality::kImage; }

  std::optional<LrPreset> lr_preset(const std::string& flavor) const override {
    std::vector<int64_t> copies = {100, 200, 400, 800, 400, 200, 100, 50};
    if (flavor == "lr-wl")
      return LrPreset{{"weight", "weight", "weight", "weight", "logit", "logit", "logit", "logit"},
                      copies,
                      {1e-3, 1e-3, 1e-3, 1e-3, 1e-2, 1e-2, 1e-2, 1e-2}};
    return LrPreset{std::vector<std::string>(8, "logit"), copies, std::vector<double>(8, 1e-2)};
  }

 protected:
  torch::Tensor prepare(const Batch& b) override { return normalize(b.x, mean_, std_); }

 private:
  torch::Tensor mean_, std_;
};
TORCH_MODULE(Vgg8);

LRB_REGISTER(ClassifierImpl, "vgg8", "VGG-8 for 32x32 images: 6 convs 16-16-32-32-64-64 + FC 1024-256-10, no BatchNorm (paper)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<Vgg8Impl>(Vgg8Options::from(c), ctx);
             });

}  // namespace lrb
