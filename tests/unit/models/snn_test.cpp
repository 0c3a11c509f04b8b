// snn: the LIF dynamics by hand (leak, threshold, reset to zero, the non-spiking readout), copies, and the
// surrogate derivative (value in the forward is always the Heaviside; only autograd sees the surrogate).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/config.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"

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

}  // namespace
}  // namespace lrb
