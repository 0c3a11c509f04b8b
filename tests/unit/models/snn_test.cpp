// snn: the LIF dynamics by hand (leak, threshold, reset to zero, the non-spiking readout), copies, and the
// surrogate derivative (value in the forward is always the Heaviside; only autograd sees the surrogate).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/config.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "models/rate_code.h"

namespace lrb {
namespace {

ClassifierImpl::Ptr make_snn(const std::string& extra, int64_t steps) {
  ModelContext ctx;
  ctx.input.shape = {1};
  ctx.num_classes = 2;
  auto m = Registry<ClassifierImpl>::get().make(
      Config(parse_yaml_string("name: snn\nhidden: [1]\ndecay: 0.5\nthreshold: 1.0\nsteps: " + std::to_string(steps) +
                                   "\n" + extra,
                               "test.yaml"),
             ""),
      ctx);
  auto layers = dynamic_cast<LayeredModel&>(*m).layers();
  torch::NoGradGuard no_grad;
  layers[0].weight().fill_(1), layers[0].bias().zero_();
  layers[1].weight().copy_(torch::tensor({{1.0f}, {-1.0f}})), layers[1].bias().zero_();
  return m;
}

Batch images(std::vector<float> v) {
  Batch b;
  b.modality = Modality::kImage;
  b.x = torch::tensor(v).view({-1, 1, 1, 1});
  b.y = torch::zeros({b.x.size(0)}, torch::kLong);
  return b;
}

// Current 0.9: u = 0.9, 0.9·0.5 + 0.9 = 1.35 (spike), reset to zero: 0 + 0.9 = 0.9, no spike (a reset by
// subtraction would keep 0.35: 0.175 + 0.9 = 1.075, a spike). The readout integrates the spikes through
// W2 = [1, -1]: c = 0, 1, 0 → u_out = 0, 1, 0.5. Current 0.3 never reaches the threshold (0.3, 0.45, 0.525): 0.
TEST(Snn, LeakThresholdResetAndReadout) {
  auto m = make_snn("", 3);
  torch::NoGradGuard no_grad;
  auto out = m->forward(images({0.9f, 0.3f}));
  EXPECT_TRUE(torch::allclose(out, torch::tensor({{0.5f, -0.5f}, {0.0f, 0.0f}}), 1e-6, 1e-7)) << out;
  // Two steps end right after the spike: u_out = 0·0.5 + 1.
  auto two = make_snn("", 2)->forward(images({0.9f}));
  EXPECT_TRUE(torch::allclose(two, torch::tensor({{1.0f, -1.0f}}))) << two;
}

TEST(Snn, CopiesAreTiledRows) {
  torch::manual_seed(1);
  ModelContext ctx;
  ctx.input.shape = {1, 4, 4};
  auto m = Registry<ClassifierImpl>::get().make(Config(parse_yaml_string("name: snn\nhidden: [6, 5]", "t.yaml"), ""), ctx);
  auto& lm = dynamic_cast<LayeredModel&>(*m);
  EXPECT_EQ(lm.layers().size(), 3u);
  EXPECT_EQ(lm.preactivation_sizes(), (std::vector<int64_t>{6, 5, 10}));
  Batch b;
  b.modality = Modality::kImage;
  b.x = torch::rand({3, 1, 4, 4}) * 4;
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(lm.forward_copies(b, 2), tile_rows(m->forward(b), 2)));
}

// d logit_0 / dx through one spike at v = u − threshold = 0.2 (one step, w = 1): W2[0] · g'(0.2) · w, with
// g' the surrogate's derivative at slope 4; the forward values are the Heaviside's for every surrogate.
TEST(Snn, SurrogateDerivative) {
  const double v = 0.2, a = 4, sg = 1 / (1 + std::exp(-a * v));
  const std::pair<std::string, double> cases[] = {{"sigmoid", a * sg * (1 - sg)},
                                                  {"atan", a / 2 / (1 + std::pow(M_PI / 2 * a * v, 2))}};
  for (const auto& [name, expected] : cases) {
    auto m = make_snn("surrogate: " + name + "\nsurrogate_slope: 4", 1);
    EXPECT_EQ(m->input_grad_refusal(), "");
    auto b = images({1.2f});
    b.x.requires_grad_(true);
    auto out = m->forward(b);
    EXPECT_FLOAT_EQ(out[0][0].item<float>(), 1.0f) << name;
    auto g = torch::autograd::grad({out[0][0]}, {b.x})[0];
    EXPECT_NEAR(g.item<double>(), expected, 1e-5) << name;
  }
  // none: the true Heaviside, no path from the input to the logits, and white-box attacks are refused.
  auto m = make_snn("surrogate: none", 1);
  EXPECT_NE(m->input_grad_refusal().find("model.surrogate"), std::string::npos);
  auto b = images({1.2f});
  b.x.requires_grad_(true);
  auto out = m->forward(b);
  EXPECT_FLOAT_EQ(out[0][0].item<float>(), 1.0f);
  EXPECT_FALSE(torch::autograd::grad({out.sum()}, {b.x}, {}, /*retain_graph=*/false, false, true)[0].defined());
}

// The spiking readouts on the hand example above (current 0.9, hidden spikes 0, 1, 0 over three steps; W2 = [1, -1]):
// the output LIF of class 0 gets currents 0, 1, 0 and spikes once (at step 2, then resets); class 1 never spikes.
TEST(Snn, SpikingReadouts) {
  torch::NoGradGuard no_grad;
  auto count = make_snn("readout: spike-count", 3)->forward(images({0.9f, 0.3f}));
  EXPECT_TRUE(torch::equal(count, torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}}))) << count;
  // Last-step spikes: none at step 3 (the spike was at step 2), one when the run ends at step 2.
  EXPECT_TRUE(torch::equal(make_snn("readout: spikes", 3)->forward(images({0.9f})), torch::tensor({{0.0f, 0.0f}})));
  EXPECT_TRUE(torch::equal(make_snn("readout: spikes", 2)->forward(images({0.9f})), torch::tensor({{1.0f, 0.0f}})));
}

ClassifierImpl::Ptr poisson_snn(int64_t steps, uint64_t seed) {
  torch::manual_seed(seed);
  ModelContext ctx;
  ctx.input.shape = {1, 4, 4};
  return Registry<ClassifierImpl>::get().make(
      Config(parse_yaml_string("name: snn\nhidden: [6]\nencoding: poisson\nsteps: " + std::to_string(steps), "t.yaml"),
             ""),
      ctx);
}

// Rate coding: each pixel spikes with probability p at each step. 4,000 steps of 16 pixels at p = k/15: every pixel's
// rate within 5 binomial standard errors (p(1-p)/4000)^½ of p (seeded, so the check is exact for this key), p = 0
// never and p = 1 always.
TEST(Snn, PoissonRates) {
  auto x = torch::arange(16, torch::kFloat).div(15).view({1, 16});
  auto s = poisson_spikes(x, 4000, 12345);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{4000, 1, 16}));
  auto rate = s.mean(0).view({16});
  for (int64_t j = 0; j < 16; ++j) {
    const double p = j / 15.0;
    EXPECT_NEAR(rate[j].item<double>(), p, 5 * std::sqrt(p * (1 - p) / 4000) + 1e-12) << "pixel " << j;
  }
  // Different images and keys draw differently; steps differ from one another.
  EXPECT_FALSE(torch::equal(poisson_spikes(x, 8, 1), poisson_spikes(x, 8, 2)));
  EXPECT_FALSE(torch::equal(s[0], s[1]) && torch::equal(s[1], s[2]) && torch::equal(s[2], s[3]));
}

// The code of an image depends on the image and the key only: the same image in another batch, at another row,
// gets the same spikes, so the logits of a row do not depend on its batch; the key is the checkpoint's buffer
// (drawn from the seeded generator at construction) and a current-coded net has none (its initialisation and
// checkpoints stay as they were).
TEST(Snn, PoissonCodeFollowsTheImage) {
  torch::manual_seed(2);
  auto a = torch::rand({5, 1, 4, 4}), other = torch::rand({3, 1, 4, 4});
  auto m = poisson_snn(8, 7);
  Batch b1, b2;
  b1.x = a;
  b2.x = torch::cat({other.slice(0, 0, 2), a.slice(0, 3, 4), other.slice(0, 2, 3)});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(m->forward(b1)[3], m->forward(b2)[2]));
  EXPECT_TRUE(torch::equal(m->forward(b1), m->forward(b1)));
  m->train();  // training mode draws the same code: no state advances between forwards
  EXPECT_TRUE(torch::equal(m->forward(b1), m->forward(b1)));
  m->eval();
  auto& lm = dynamic_cast<LayeredModel&>(*m);
  EXPECT_TRUE(torch::equal(lm.forward_copies(b1, 3), tile_rows(m->forward(b1), 3)));
  auto key = m->named_buffers()["encoding_key"];
  EXPECT_TRUE(torch::equal(key, poisson_snn(8, 7)->named_buffers()["encoding_key"]));
  EXPECT_FALSE(torch::equal(key, poisson_snn(8, 8)->named_buffers()["encoding_key"]));
  EXPECT_EQ(make_snn("", 2)->named_buffers().find("encoding_key"), nullptr);
}

// Attacks differentiate through the draw straight (d spike / d pixel = 1 at every step): the value is the spikes,
// the gradient of their sum over 4 steps is 4 per pixel.
TEST(Snn, PoissonGradientIsStraightThrough) {
  auto x = torch::full({1, 3}, 0.5, torch::kDouble).requires_grad_(true);
  auto s = poisson_spikes(x, 4, 99);
  EXPECT_EQ(s.scalar_type(), torch::kDouble);
  auto g = torch::autograd::grad({s.sum()}, {x})[0];
  EXPECT_TRUE(torch::allclose(g, torch::full({1, 3}, 4.0, torch::kDouble)));
  EXPECT_TRUE(torch::equal(s.detach(), poisson_spikes(x.detach(), 4, 99)));
}

}  // namespace
}  // namespace lrb
