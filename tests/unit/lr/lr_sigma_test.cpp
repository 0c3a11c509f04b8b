// Learned σ: the LR estimate of d E[L] / d log σ (mean of L·Σ(ε² − 1) per output channel) matches a
// central finite difference of E[L] in log σ computed with common random numbers.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/unit/lr/tiny_models.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

torch::Tensor ce_rows(const torch::Tensor& logits, const torch::Tensor& y) {
  return -torch::log_softmax(logits, 1).gather(1, y.unsqueeze(1)).squeeze(1);
}

struct Fd {
  torch::Tensor value, se;  // [C]
};

// d E[L] / d log σ_c by central differences (step h) with the same noise on both sides.
Fd finite_difference(LayeredModel& m, const Batch& b, int l, Mode mode, double sigma, int64_t samples, double h) {
  torch::NoGradGuard no_grad;
  auto layer = m.layers()[l];
  auto t = m.trace(b);
  auto x = t.inputs[l];
  auto z = layer(x);
  const int64_t B = z.size(0), C = z.size(1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto opts = z.options();
  // The unit noise part of the pre-activation, [K*B, ...]: ε (logit) or ξ·x + ξ_b (weight, linear only).
  torch::Tensor unit;
  if (mode == Mode::kLogit) {
    std::vector<int64_t> shape{samples};
    for (auto d : z.sizes()) shape.push_back(d);
    unit = at::randn(shape, gen, opts).flatten(0, 1);
  } else {
    auto xi = at::randn({samples, B, C, x.size(1)}, gen, opts);
    auto xi_b = at::randn({samples, B, C}, gen, opts);
    unit = (torch::einsum("kbcj,bj->kbc", {xi, x}) + xi_b).flatten(0, 1);
  }
  auto y = b.y.repeat({samples});
  auto zt = tile_rows(z, samples);
  std::vector<int64_t> cshape(z.dim(), 1);
  cshape[1] = C;
  auto value = torch::zeros({C}, opts), se = torch::zeros({C}, opts);
  for (int64_t c = 0; c < C; ++c) {
    auto loss_at = [&](double shift) {
      auto log_sigma = torch::full({C}, std::log(sigma), opts);
      log_sigma[c] += shift;
      auto logits = m.forward_from(l, zt + unit * log_sigma.exp().view(cshape), t, samples);
      return ce_rows(logits, y).view({samples, B}).mean(1);  // per-sample batch-mean loss
    };
    auto diff = (loss_at(h) - loss_at(-h)) / (2 * h);
    value[c] = diff.mean();
    se[c] = diff.std() / std::sqrt(static_cast<double>(samples));
  }
  return {value, se};
}

struct Case {
  const char* name;
  bool conv_model;
  int layer;
  Mode mode;
  double sigma;
};

class LearnedSigma : public ::testing::TestWithParam<Case> {};

TEST_P(LearnedSigma, LrGradientMatchesFiniteDifference) {
  const auto& k = GetParam();
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  test::TinyMlp mlp;
  test::TinyConv conv;
  mlp.to(torch::kDouble);
  conv.to(torch::kDouble);
  LayeredModel& m = k.conv_model ? static_cast<LayeredModel&>(conv) : mlp;
  auto b = k.conv_model ? test::tiny_batch({2, 5, 5}, 4, 3, 21) : test::tiny_batch({8}, 4, 3, 21);
  auto fd = finite_difference(m, b, k.layer, k.mode, k.sigma, 20000, 1e-2);

  EngineSettings s;
  for (size_t l = 0; l < m.layers().size(); ++l) s.layers.push_back({Mode::kNone, 200, k.sigma, true});
  s.layers[k.layer].mode = k.mode;
  s.sigma_grad = true;
  std::vector<torch::Tensor> sig;
  for (const auto& l : m.layers()) sig.push_back(torch::full({l.weight().size(0)}, k.sigma, torch::kDouble));
  Engine e(m, s, sig);
  auto clean = e.clean_pass(b);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  std::vector<torch::Tensor> est;
  const int64_t repeats = 200;
  for (int64_t r = 0; r < repeats; ++r) est.push_back(e.layer(clean, k.layer, {200}, gen).front().log_sigma);
  auto all = torch::stack(est);
  auto se = all.std(0) / std::sqrt(static_cast<double>(repeats));
  auto z = (all.mean(0) - fd.value) / (se.square() + fd.se.square()).sqrt();
  // Tolerance: |z| < 4 per channel, with the finite difference's own standard error included
  // (its O(h²) truncation error, h = 0.01, is negligible next to both).
  EXPECT_LT(z.abs().max().item<double>(), 4.0) << k.name << ": LR " << all.mean(0) << " FD " << fd.value;
  // Meaningful: the derivative is resolved (the largest channel is many standard errors from 0).
  EXPECT_GT((fd.value.abs() / fd.se).max().item<double>(), 10.0) << k.name;
}

INSTANTIATE_TEST_SUITE_P(Lr, LearnedSigma,
                         ::testing::Values(Case{"mlp_logit_last", false, 1, Mode::kLogit, 0.5},
                                           Case{"mlp_logit_hidden", false, 0, Mode::kLogit, 0.5},
                                           Case{"mlp_weight_last", false, 1, Mode::kWeight, 0.3},
                                           Case{"conv_logit", true, 0, Mode::kLogit, 0.5}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lrb::lr
