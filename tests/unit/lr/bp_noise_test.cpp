// The BP+noise control (trainers/lr/bp_noise.cpp): back-propagation through LR's own noise. With σ → 0 its step is
// plain BP's, bit for bit; with the preset σ the noise is really there; a learned σ gets its gradient; what it
// records and accepts is the noise's description only.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"
#include "core/seed.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "trainers/trainer.h"

namespace lrb {
namespace {

Config yaml(const std::string& text) { return Config(parse_yaml_string(text, "test"), "trainer"); }

ClassifierImpl::Ptr resnet5() {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {3, 32, 32};
  ctx.num_classes = 10;
  return Registry<ClassifierImpl>::get().make(Config(parse_yaml_string("name: resnet5", "test"), "model"), ctx);
}

Batch batch() {
  auto gen = make_generator(7);
  Batch b;
  b.x = torch::rand({6, 3, 32, 32}, gen);
  b.y = torch::randint(0, 10, {6}, gen);
  return b;
}

// Plain BP's gradient of the mean cross-entropy, parameter by parameter.
std::vector<torch::Tensor> bp_grads(ClassifierImpl& m, const Batch& b) {
  m.zero_grad();
  torch::nn::functional::cross_entropy(m.forward(b), b.y).backward();
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone());
  return g;
}

std::vector<torch::Tensor> step_grads(Trainer& t, ClassifierImpl& m, const Batch& b, uint64_t seed) {
  auto gen = make_generator(seed);
  t.estimate_grad(m, b, gen);
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone());
  return g;
}

// Both flavours: LR-L's noise (logits only) and LR-WL's (weight noise on conv0-1 through at::conv2d, logit noise on
// the rest). σ = 1e-30 is below every weight's and pre-activation's float32 resolution, so w + σε == w exactly.
TEST(BpNoise, TinySigmaReproducesPlainBpExactly) {
  for (const char* key : {"bp-noise-l", "bp-noise-wl"}) {
    auto model = resnet5();
    const auto b = batch();
    const auto reference = bp_grads(*model, b);
    auto t = Registry<Trainer>::get().make(yaml(std::string("name: ") + key + "\nsigma: [1.0e-30]"));
    t->attach(*model);
    const auto got = step_grads(*t, *model, b, 1);
    ASSERT_EQ(got.size(), reference.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i], reference[i])) << key << " parameter " << i;
  }
}

// Relative distance of two gradients, all parameters together.
double distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]).pow(2).sum().item<double>(), n += b[i].pow(2).sum().item<double>();
  return std::sqrt(d / n);
}

TEST(BpNoise, PresetNoiseMovesTheGradientAndEachStepDrawsAfresh) {
  auto model = resnet5();
  const auto b = batch();
  const auto reference = bp_grads(*model, b);
  auto t = Registry<Trainer>::get().make(yaml("name: bp-noise-wl"));
  t->attach(*model);
  const auto a = step_grads(*t, *model, b, 1), again = step_grads(*t, *model, b, 1), other = step_grads(*t, *model, b, 2);
  EXPECT_EQ(distance(a, again), 0);  // same generator state: the same noise
  EXPECT_GT(distance(a, other), 0);
  // The gradient moves away from BP's as σ grows: the preset's σ (1e-3 weight, 1e-1 logit) against 1e-6 everywhere.
  auto faint = Registry<Trainer>::get().make(yaml("name: bp-noise-wl\nsigma: [1.0e-6]"));
  faint->attach(*model);
  const double near = distance(step_grads(*faint, *model, b, 1), reference), far = distance(a, reference);
  EXPECT_LT(near, 1e-3);
  EXPECT_GT(far, 10 * near);
}

TEST(BpNoise, LearnedSigmaGetsItsGradientThroughTheSameBackwardPass) {
  auto model = resnet5();
  auto t = Registry<Trainer>::get().make(yaml("name: bp-noise-l\nlearn_sigma: true"));
  t->attach(*model);
  auto sigma = t->parameters();
  ASSERT_FALSE(sigma.empty());
  auto gen = make_generator(3);
  t->estimate_grad(*model, batch(), gen);
  for (const auto& s : sigma) {
    ASSERT_TRUE(s.grad().defined());
    EXPECT_GT(s.grad().abs().sum().item<double>(), 0);
  }
}

TEST(BpNoise, RecordsAndAcceptsOnlyTheNoisesDescription) {
  auto model = resnet5();
  auto t = Registry<Trainer>::get().make(yaml("name: bp-noise-wl"));
  t->attach(*model);
  std::vector<std::string> keys;
  for (const auto& r : t->resolved_settings()) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"modes", "sigma"}));

  auto c = yaml("name: bp-noise-wl\ncopies: [10]");
  Registry<Trainer>::get().make(c);
  EXPECT_THROW(c.reject_unread_keys(), ConfigError);  // copies mean nothing without copies
}

}  // namespace
}  // namespace lrb
