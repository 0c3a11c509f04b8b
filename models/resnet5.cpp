// resnet5: the paper's ResNet-5 for CIFAR-10 (PAPER.md §2.1, after fmmarkmq/LR_Test cnn/model.py):
//   conv0 3->8, conv1 8->16 (+maxpool 2), conv2 16->32, conv3 32->32 with an identity skip, maxpool 4,
//   linear 512->10. 3x3 kernels, stride 1, pad 1, bias on, no BatchNorm, PyTorch default init.
// Options: width (channel multiplier, default 1; 1 reproduces the paper).
#include <torch/torch.h>

#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
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

class ResNet5Impl : public ClassifierImpl, public LayeredModel {
 public:
  ResNet5Impl(const ResNet5Options& o, const ModelContext& ctx) {
    TORCH_CHECK(ctx.input.shape.size() == 3 && ctx.input.shape[1] == 32 && ctx.input.shape[2] == 32,
                "resnet5 expects 32x32 images (got a dataset with another input shape)");
    const int64_t c_in = ctx.input.shape[0], w = o.width;
    auto conv = [](int64_t i, int64_t out) { return torch::nn::Conv2dOptions(i, out, 3).stride(1).padding(1); };
    conv0_ = register_module("conv0", torch::nn::Conv2d(conv(c_in, 8 * w)));
    conv1_ = register_module("conv1", torch::nn::Conv2d(conv(8 * w, 16 * w)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(conv(16 * w, 32 * w)));
    conv3_ = register_module("conv3", torch::nn::Conv2d(conv(32 * w, 32 * w)));
    fc_ = register_module("fc", torch::nn::Linear(32 * w * 4 * 4, ctx.num_classes));
    register_normalization(*this, ctx.input.mean, ctx.input.std, mean_, std_);
  }

  torch::Tensor forward(const Batch& b) override {
    auto x = torch::relu(conv0_(normalize(b.x, mean_, std_)));
    x = torch::max_pool2d(torch::relu(conv1_(x)), 2);
    x = torch::relu(conv2_(x));
    x = torch::relu(conv3_(x)) + x;
    return fc_(torch::max_pool2d(x, 4).flatten(1));
  }
  std::string key() const override { return "resnet5"; }
  Modality modality() const override { return Modality::kImage; }

  std::vector<PerturbableLayer> layers() override {
    return {{"conv0", nullptr, conv0_}, {"conv1", nullptr, conv1_}, {"conv2", nullptr, conv2_},
            {"conv3", nullptr, conv3_}, {"fc", fc_, nullptr}};
  }

  ForwardTrace trace(const Batch& b) override {
    ForwardTrace t;
    t.inputs.resize(5);
    auto x = t.inputs[0] = normalize(b.x, mean_, std_);
    x = t.inputs[1] = torch::relu(conv0_(x));
    x = t.inputs[2] = torch::max_pool2d(torch::relu(conv1_(x)), 2);
    x = t.inputs[3] = torch::relu(conv2_(x));
    x = torch::relu(conv3_(x)) + x;
    x = t.inputs[4] = torch::max_pool2d(x, 4).flatten(1);
    t.logits = fc_(x);
    return t;
  }

  torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace& t, int64_t copies) override {
    torch::Tensor x = z;
    switch (l) {
      case 0: x = call_layer(1, conv1_, torch::relu(x)); [[fallthrough]];
      case 1: x = call_layer(2, conv2_, torch::max_pool2d(torch::relu(x), 2)); [[fallthrough]];
      case 2: {
        auto h = torch::relu(x);  // the skip around conv3 carries conv3's input
        x = torch::relu(call_layer(3, conv3_, h)) + h;
        return call_layer(4, fc_, torch::max_pool2d(x, 4).flatten(1));
      }
      case 3: {
        // The skip is the clean conv3 input: broadcast over the copies rather than tiled (saves a copy).
        const auto& skip = t.inputs[3];
        x = (torch::relu(x).view({copies, skip.size(0), skip.size(1), skip.size(2), skip.size(3)}) + skip.unsqueeze(0))
                .flatten(0, 1);
        return call_layer(4, fc_, torch::max_pool2d(x, 4).flatten(1));
      }
      case 4: return x;
    }
    TORCH_CHECK(false, "resnet5 has layers 0..4 (got ", l, ")");
  }

 private:
  torch::nn::Conv2d conv0_{nullptr}, conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Linear fc_{nullptr};
  torch::Tensor mean_, std_;
};
TORCH_MODULE(ResNet5);

LRB_REGISTER(ClassifierImpl, "resnet5", "ResNet-5 for 32x32 images: 4 convs (one skip) + linear, no BatchNorm (paper)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<ResNet5Impl>(ResNet5Options::from(c), ctx);
             });

}  // namespace lrb
