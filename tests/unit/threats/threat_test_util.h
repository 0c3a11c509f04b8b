// Small models and data for the threat tests: a tiny conv net on a separable synthetic image problem,
// the fixed linear model of golden_attacks.h, and models without a usable input gradient.
#pragma once
#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "core/seed.h"
#include "models/classifier.h"
#include "threats/threat.h"

namespace lrb::test {

inline Config threat_cfg(const std::string& yaml) { return Config(parse_yaml_string(yaml, "<test>"), "threat"); }

template <class T>
std::unique_ptr<T> make_as(const std::string& yaml) {
  auto t = make_threat(threat_cfg(yaml));
  auto* p = dynamic_cast<T*>(t.get());
  if (!p) throw std::logic_error("'" + yaml + "' is not of the requested threat kind");
  t.release();
  return std::unique_ptr<T>(p);
}

inline ThreatContext image_context() {
  ThreatContext ctx;
  ctx.input.shape = {3, 8, 8};
  ctx.input.mean = {0.5, 0.375, 0.25};
  ctx.input.std = {0.25, 0.125, 0.5};
  ctx.num_classes = 2;
  return ctx;
}

// A model whose inputs are [0,1] pixels and which normalises inside forward, like the zoo's.
class TestModel : public ClassifierImpl {
 public:
  std::string key() const override { return "test-model"; }
  Modality modality() const override { return Modality::kImage; }
};

// conv 3->4 (3x3, pad 1) -> relu -> linear 256->2, on 3x8x8 images.
class TinyConvNet : public TestModel {
 public:
  TinyConvNet() {
    auto ctx = image_context();
    mean_ = register_buffer("mean", torch::tensor(ctx.input.mean, torch::kFloat).view({1, 3, 1, 1}));
    std_ = register_buffer("std", torch::tensor(ctx.input.std, torch::kFloat).view({1, 3, 1, 1}));
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(4 * 8 * 8, 2));
  }
  torch::Tensor forward(const Batch& b) override { return fc(torch::relu(conv((b.x - mean_) / std_)).flatten(1)); }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
  torch::Tensor mean_, std_;
};

// Class y shifts every pixel by ±0.03 along a fixed ±1 pattern under N(0, 0.15²) noise: separable
// (margin 0.03*192 ≈ 5.8 against a noise std ≈ 2.1 along the pattern) yet within reach of an
// eps = 8/255 attack, which can move the projection by 0.031*192 ≈ 6.0.
inline Batch separable_images(int64_t n, uint64_t seed) {
  auto pattern_gen = make_generator(7);
  auto pattern = at::randint(0, 2, {3, 8, 8}, pattern_gen, torch::kFloat) * 2 - 1;
  auto gen = make_generator(seed);
  Batch b;
  b.y = at::randint(0, 2, {n}, gen, torch::kLong);
  auto sign = (b.y.to(torch::kFloat) * 2 - 1).view({n, 1, 1, 1});
  b.x = torch::clamp(0.5 + 0.03 * sign * pattern + 0.15 * at::randn({n, 3, 8, 8}, gen, torch::kFloat), 0, 1);
  return b;
}

inline double accuracy(ClassifierImpl& m, const Batch& b) {
  torch::NoGradGuard no_grad;
  return m.forward(b).argmax(1).eq(b.y).to(torch::kDouble).mean().item<double>();
}

// Trained once for the whole binary: 300 full-batch Adam steps (lr 0.01) on 512 examples, seed 0.
struct Trained {
  std::shared_ptr<TinyConvNet> model;
  Batch test;
  double clean_acc;
};
inline Trained& trained() {
  static Trained t = [] {
    torch::manual_seed(0);
    auto m = std::make_shared<TinyConvNet>();
    auto train = separable_images(512, 1);
    torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(0.01));
    for (int step = 0; step < 300; ++step) {
      opt.zero_grad();
      torch::nn::functional::cross_entropy(m->forward(train), train.y).backward();
      opt.step();
    }
    Trained out{m, separable_images(256, 2), 0.0};
    out.clean_acc = accuracy(*m, out.test);
    return out;
  }();
  return t;
}

// Its forward cuts the input out of the graph (common in LR code that never needs backward).
class DetachingModel : public TinyConvNet {
 public:
  torch::Tensor forward(const Batch& b) override {
    Batch d = b;
    d.x = b.x.detach();
    return TinyConvNet::forward(d);
  }
};

// Its output does not depend on the input: the input gradient is exactly zero.
class ConstantModel : public TinyConvNet {
 public:
  torch::Tensor forward(const Batch& b) override {
    Batch d = b;
    d.x = b.x * 0.0 + 0.5;
    return TinyConvNet::forward(d);
  }
};

}  // namespace lrb::test
