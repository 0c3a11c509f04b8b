// The LR estimator of the zoo's recurrent cells (rnn, gru, lstm; PAPER.md §2.4): fresh logit noise at
// every time step on the input-to-hidden and hidden-to-hidden pre-activations of all gates, on the looked-up
// embedding rows and on the output layer, the per-step terms summed; no BPTT anywhere in the LR path. The
// mean of many estimates must match exact BPTT gradients (autograd through the same cell) within its
// standard error, for each cell, and the same rule must reject a 10 % bias.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "tests/unit/lr/tiny_sites.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

torch::Tensor flat(const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::cat({w.flatten(), b.flatten()}) : w.flatten();
}

struct Case {
  const char* cell;
  int layer;       // the site estimated layer-wise (0 embedding, 1 ih, 2 hh, 3 out); -1: all at once
  int64_t copies;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.cell << "_" << c.layer; }

class Recurrent : public ::testing::TestWithParam<Case> {};

TEST_P(Recurrent, MeanMatchesBpttWithinStandardError) {
  const auto& k = GetParam();
  torch::manual_seed(11);
  ModelContext ctx;
  ctx.input.shape = {4};
  ctx.input.vocab_size = 6;  // ids 1..5 in tiny_text, 0 = <pad>
  ctx.num_classes = 3;
  auto model = Registry<ClassifierImpl>::get().make(
      Config(parse_yaml_string(std::string("name: ") + k.cell + "\nembedding_dim: 3\nhidden: 3", "test.yaml"), ""), ctx);
  model->to(torch::kDouble);
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  auto layers = lm.layers();
  ASSERT_EQ(layers.size(), 4u);
  ASSERT_TRUE(layers[0].is_embedding());
  auto b = test::tiny_text(4, 4, 3);

  std::vector<torch::Tensor> ref;  // exact BPTT gradients of the mean clean loss
  {
    torch::AutoGradMode on(true);
    model->zero_grad();
    torch::nn::functional::cross_entropy(model->forward(b), b.y).backward();
    for (const auto& l : layers) ref.push_back(flat(l.weight().grad(), l.bias().defined() ? l.bias().grad() : torch::Tensor()));
  }

  torch::NoGradGuard no_grad;
  EngineSettings s;
  std::vector<torch::Tensor> sig;
  const double sigma = k.layer < 0 ? 1e-3 : 1e-2;  // joint: the other sites' noise is extra variance
  for (size_t l = 0; l < layers.size(); ++l) {
    s.layers.push_back({k.layer < 0 || k.layer == static_cast<int>(l) ? Mode::kLogit : Mode::kNone, k.copies, sigma});
    sig.push_back(torch::full({layers[l].out_channels()}, sigma, torch::kDouble));
  }
  s.layerwise = k.layer >= 0;
  Engine e(lm, s, sig);
  auto clean = e.clean_pass(b);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
  const int64_t repeats = 1000;
  std::vector<std::vector<torch::Tensor>> est(layers.size());
  for (int64_t r = 0; r < repeats; ++r) {
    if (k.layer >= 0) {
      auto g = e.layer(clean, k.layer, {k.copies}, gen).front();
      est[k.layer].push_back(flat(g.weight, g.bias));
    } else {
      auto g = e.joint(clean, {k.copies}, gen).front();
      for (size_t l = 0; l < layers.size(); ++l) est[l].push_back(flat(g[l].weight, g[l].bias));
    }
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    if (est[l].empty()) continue;
    auto all = torch::stack(est[l]);
    auto mean = all.mean(0);
    auto se = all.std(0) / std::sqrt(static_cast<double>(repeats));
    // Rows of the embedding no example looks up (and the padding row) must get exactly zero.
    auto live = se.gt(0);
    EXPECT_TRUE(torch::equal(mean.masked_select(~live), ref[l].masked_select(~live))) << k.cell << " site " << l;
    auto z = ((mean - ref[l]) / se).masked_select(live);
    auto zb = ((mean * 1.1 - ref[l]) / (se * 1.1)).masked_select(live);
    // |z| < 4 for every coordinate (P(max|z| > 4) < 1% for the <= 60 coordinates of a site); a 10 % bias
    // must push some coordinate past it.
    EXPECT_LT(z.abs().max().item<double>(), 4.0) << k.cell << " site " << layers[l].name;
    EXPECT_GT(zb.abs().max().item<double>(), 4.0) << k.cell << " site " << layers[l].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Lr, Recurrent,
                         ::testing::Values(Case{"rnn", 0, 100}, Case{"rnn", 2, 100}, Case{"rnn", -1, 800},
                                           Case{"gru", 0, 100}, Case{"gru", 2, 100}, Case{"gru", -1, 800},
                                           Case{"lstm", 0, 100}, Case{"lstm", 2, 100}, Case{"lstm", -1, 800}));

}  // namespace
}  // namespace lrb::lr
