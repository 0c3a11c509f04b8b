// resnet5: the paper's ResNet-5 for CIFAR-10 (docs/PAPER.md §2.1, after fmmarkmq/LR_Test cnn/model.py):
//   conv0 3->8, conv1 8->16 (+maxpool 2), conv2 16->32, conv3 32->32 with an identity skip, maxpool 4,
//   linear 512->10. 3x3 kernels, stride 1, pad 1, bias on, no BatchNorm, PyTorch default init.
// Options: width (channel multiplier, default 1; 1 reproduces the paper).
// LR presets (docs/PAPER.md §2.1, §4): LR-WL weight noise on conv0-1 (σ0 1e-3), logit noise on conv2, conv3, fc
// (σ0 1e-1), copies [100,200,200,100,50]; LR-L logit noise everywhere (σ0 1e-1).
#include <torch/torch.h>

#include "core/registry.h"
#include "models/chain.h"
#include "models/classifier.h"
#include "models/normalize.h"

namespace lrb {

struct ResNet5Options {
  int64_t width = 1;
  static ResNet5Options from(const Config& c) {
    ResNet5Options o;
    c.has("name");
    c.read("width", o.width, Range::between(1, 64));
    return o;
  }
};

class ResNet5Impl : public ClassifierImpl, public ChainModel {
 public:
  ResNet5Impl(const ResNet5Options& o, const ModelContext& ctx) {
    TORCH_CHECK(ctx.input.shape.size() == 3 && ctx.input.shape[1] == 32 && ctx.input.shape[2] == 32,
                "resnet5 expects 32x32 images (got a dataset with another input shape)");
    const int64_t c_in = ctx.input.shape[0], w = o.width;
    auto conv = [](int64_t i, int64_t out) { return torch::nn::Conv2dOptions(i, out, 3).stride(1).padding(1); };
    auto conv0 = register_module("conv0", torch::nn::Conv2d(conv(c_in, 8 * w)));
    auto conv1 = register_module("conv1", torch::nn::Conv2d(conv(8 * w, 16 * w)));
    auto conv2 = register_module("conv2", torch::nn::Conv2d(conv(16 * w, 32 * w)));
    auto conv3 = register_module("conv3", torch::nn::Conv2d(conv(32 * w, 32 * w)));
    auto fc = register_module("fc", torch::nn::Linear(32 * w * 4 * 4, ctx.num_classes));
    register_normalization(*this, ctx.input.mean, ctx.input.std, mean_, std_);

    auto relu = [](const torch::Tensor& z, const Flow& f) { return f.relu(z); };
    add_site({"conv0", nullptr, conv0}, [](const torch::Tensor& x, const Flow&) { return x; });
    add_site({"conv1", nullptr, conv1}, relu);
    add_site({"conv2", nullptr, conv2},
             [](const torch::Tensor& z, const Flow& f) { return f.relu_pool(z, 2); });
    add_site({"conv3", nullptr, conv3}, relu);
    keep_input(3);
    // The identity skip around conv3 carries conv3's input.
    add_site({"fc", fc, nullptr}, [](const torch::Tensor& z, const Flow& f) {
      return torch::max_pool2d(f.add_skip_into(f.relu(z), 3), 4).flatten(1);
    });
    finish_chain(ctx.input.shape);
  }

  torch::Tensor forward(const Batch& b) override { return trace(b).logits; }
  std::string key() const override { return "resnet5"; }
  // Its passes only read the parameters: the LR engine may run chunks of copies on threads of their own.
  bool concurrent_copies() const override { return true; }
  Modality modality() const override { return Modality::kImage; }

  std::optional<LrPreset> lr_preset(const std::string& flavor) const override {
    if (flavor == "lr-wl")
      return LrPreset{{"weight", "weight", "logit", "logit", "logit"}, {100, 200, 200, 100, 50}, {1e-3, 1e-3, 1e-1, 1e-1, 1e-1}};
    return LrPreset{std::vector<std::string>(5, "logit"), {100, 200, 200, 100, 50}, std::vector<double>(5, 1e-1)};
  }

 protected:
  torch::Tensor prepare(const Batch& b) override { return normalize(b.x, mean_, std_); }

 private:
  torch::Tensor mean_, std_;
};
TORCH_MODULE(ResNet5);

LRB_REGISTER(ClassifierImpl, "resnet5", "ResNet-5 for 32x32 images: 4 convs (one skip) + linear, no BatchNorm (paper)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<ResNet5Impl>(ResNet5Options::from(c), ctx);
             });

}  // namespace lrb
