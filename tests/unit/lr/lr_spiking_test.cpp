// The LR estimator of the spiking net (snn; docs/PAPER.md §2.3): Gaussian noise on every layer's input current at
// every step, the per-step terms Σ_t z_t x_tᵀ summed, true Heaviside spikes (no surrogate anywhere). What it
// estimates is the gradient of the expected loss under that noise, which for a spiking net has no backprop
// counterpart (the pathwise derivative of a spike is 0). The reference here is that expectation computed
// exactly for a tiny net (2 inputs, 2 LIF neurons, 2 classes, 2 steps): each neuron's spike pattern over the
// two steps has a closed-form or one-dimensional-integral probability, the output noise is Gaussian in the
// logit difference, and autograd differentiates the quadrature. The mean of many LR estimates must match it
// within its standard error, and the same rule must reject a 10 % bias.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/config.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "tests/unit/lr/unbiased_check.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

constexpr double kDecay = 0.5;  // threshold 1, two steps

torch::Tensor Phi(const torch::Tensor& v) { return 0.5 * torch::erfc(-v / std::sqrt(2.0)); }

// ∫ f du on a uniform grid (trapezoid rule along the last dim).
torch::Tensor trapezoid(const torch::Tensor& f, double h) {
  return (f.sum(-1) - 0.5 * (f.select(-1, 0) + f.select(-1, -1))) * h;
}

// E[cross-entropy] of the batch under the LR noise: σ_h [2] on the hidden currents (undefined: none), σ_o [2]
// on the output currents (undefined: none). Patterns (s1, s2) of one neuron: 00, 01, 10, 11, with spike sum
// k·s1 + s2 reaching the output membrane u_out = k·c_1 + c_2 (c_t = W2 s_t + b2 + ζ_t).
torch::Tensor expected_loss(const torch::Tensor& W1, const torch::Tensor& b1, const torch::Tensor& W2,
                            const torch::Tensor& b2, const torch::Tensor& x, const torch::Tensor& y,
                            const torch::Tensor& sh, const torch::Tensor& so) {
  const double k = kDecay;
  auto I = x.mm(W1.t()) + b1;  // [B, 2], the same current at both steps
  torch::Tensor P;             // [B, 2, 4]
  if (sh.defined()) {
    auto p = Phi((I - 1) / sh);  // a spike at a step that starts from 0 (step 1, or step 2 after a reset)
    // s1 = 0: u1 = I + z1 < 1, then u2 = k·u1 + I + z2.
    const int64_t G = 40001;
    const double lo = -12, hi = 1, h = (hi - lo) / (G - 1);
    auto u = torch::linspace(lo, hi, G, I.options());
    auto Iu = I.unsqueeze(-1), s = sh.view({1, 2, 1});
    auto dens = torch::exp(-0.5 * ((u - Iu) / s).square()) / (s * std::sqrt(2 * M_PI));
    auto p01 = trapezoid(dens * Phi((u * k + Iu - 1) / s), h);
    P = torch::stack({1 - p - p01, p01, p * (1 - p), p * p}, -1);
  } else {
    auto s1 = I.ge(1), s2 = (I * k * (~s1).to(I.scalar_type()) + I).ge(1);
    P = torch::one_hot(s1.to(torch::kLong) * 2 + s2.to(torch::kLong), 4).to(I.scalar_type());
  }
  const double sum[4] = {0, 1, k, 1 + k};
  auto sign = torch::where(y.eq(0), torch::ones_like(I.select(1, 0)), -torch::ones_like(I.select(1, 0)));
  const int64_t G = 4001;
  auto eps = torch::linspace(-10, 10, G, I.options());
  auto w = torch::exp(-0.5 * eps.square()) / std::sqrt(2 * M_PI);
  auto loss = torch::zeros({x.size(0)}, I.options());
  for (int a = 0; a < 4; ++a)
    for (int c = 0; c < 4; ++c) {
      auto S = torch::tensor({sum[a], sum[c]}, I.options());
      auto mu = W2.mv(S) + b2 * (1 + k);           // [2] output membrane without noise
      auto d = sign * (mu[0] - mu[1]);              // u_y − u_other per example
      torch::Tensor el;
      if (so.defined()) {
        auto sd = torch::sqrt((1 + k * k) * so.square().sum());
        el = trapezoid(w * torch::softplus(-(d.unsqueeze(1) + sd * eps)), 20.0 / (G - 1));
      } else {
        el = torch::softplus(-d);
      }
      loss = loss + P.select(1, 0).select(1, a) * P.select(1, 1).select(1, c) * el;
    }
  return loss.mean();
}

struct Case {
  int layer;  // 0: the hidden layer alone (output clean); -1: both at once
  int64_t copies;
};
void PrintTo(const Case& c, std::ostream* os) { *os << "layer_" << c.layer; }

class Spiking : public ::testing::TestWithParam<Case> {};

TEST_P(Spiking, MeanMatchesExactExpectedGradient) {
  const auto& k = GetParam();
  torch::manual_seed(3);
  ModelContext ctx;
  ctx.input.shape = {2};
  ctx.num_classes = 2;
  auto model = Registry<ClassifierImpl>::get().make(
      Config(parse_yaml_string("name: snn\nhidden: [2]\nsteps: 2\ndecay: 0.5\nthreshold: 1.0", "test.yaml"), ""), ctx);
  model->to(torch::kDouble);
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  auto layers = lm.layers();
  ASSERT_EQ(layers.size(), 2u);
  {
    torch::NoGradGuard no_grad;  // currents around the threshold, so both patterns of every neuron happen
    layers[0].weight().copy_(torch::tensor({{0.9, -0.4}, {0.3, 0.7}}, torch::kDouble));
    layers[0].bias().copy_(torch::tensor({0.5, 0.2}, torch::kDouble));
    layers[1].weight().copy_(torch::tensor({{1.2, -0.8}, {-0.5, 0.9}}, torch::kDouble));
    layers[1].bias().copy_(torch::tensor({0.1, -0.2}, torch::kDouble));
  }
  Batch b;
  b.modality = Modality::kImage;
  b.x = torch::tensor({{0.9, 0.2}, {0.1, 0.8}, {0.6, 0.6}, {0.3, 0.1}}, torch::kDouble);
  b.y = torch::tensor({0, 1, 1, 0}, torch::kLong);

  const double sigma = 0.5;
  auto [s, sig] = check::logit_settings(layers, k.layer, k.copies, sigma);
  for (auto& t : sig) t = t.to(torch::kDouble);
  std::vector<torch::Tensor> ref;
  {
    torch::AutoGradMode on(true);
    std::vector<torch::Tensor> p;
    for (const auto& l : layers) p.push_back(l.weight().detach().clone().requires_grad_(true)),
                                 p.push_back(l.bias().detach().clone().requires_grad_(true));
    auto L = expected_loss(p[0], p[1], p[2], p[3], b.x, b.y, sig[0], k.layer < 0 ? sig[1] : torch::Tensor());
    auto g = torch::autograd::grad({L}, p);
    ref = {check::flat(g[0], g[1]), check::flat(g[2], g[3])};
    // The reference is a smoothed loss, not the clean one: a surrogate-free clean pass has no gradient.
    torch::NoGradGuard no_grad;
    auto clean = torch::nn::functional::cross_entropy(model->forward(b), b.y).item<double>();
    EXPECT_GT(std::abs(L.item<double>() - clean), 1e-3);
  }

  torch::NoGradGuard no_grad;
  Engine e(lm, s, sig);
  auto est = check::repeated_estimates(e, e.clean_pass(b), k.layer, k.copies, layers.size(), 1000);
  for (size_t l = 0; l < layers.size(); ++l)
    if (!est[l].empty()) check::expect_unbiased(est[l], ref[l], true, "snn site " + layers[l].name);
}

INSTANTIATE_TEST_SUITE_P(Lr, Spiking, ::testing::Values(Case{0, 100}, Case{-1, 100}));

}  // namespace
}  // namespace lrb::lr
