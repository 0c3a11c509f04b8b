// The statistical check shared by the zoo-model unbiasedness tests (lr_recurrent_test, lr_graph_test): many
// independent LR estimates of one batch, their mean compared with the exact gradient coordinate by coordinate.
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "models/layered.h"
#include "trainers/lr/engine.h"

namespace lrb::lr::check {

inline torch::Tensor flat(const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::cat({w.flatten(), b.flatten()}) : w.flatten();
}

// Logit noise on site `layer` (every site when -1, injected jointly), `copies` each; σ differs per output
// channel (0.8σ … 1.2σ), so a σ applied along the wrong axis of a weight would show as bias.
inline std::pair<EngineSettings, std::vector<torch::Tensor>> logit_settings(const std::vector<PerturbableLayer>& layers,
                                                                             int layer, int64_t copies, double sigma) {
  EngineSettings s;
  std::vector<torch::Tensor> sig;
  for (size_t l = 0; l < layers.size(); ++l) {
    s.layers.push_back({layer < 0 || layer == static_cast<int>(l) ? Mode::kLogit : Mode::kNone, copies, sigma});
    sig.push_back(torch::linspace(0.8 * sigma, 1.2 * sigma, layers[l].out_channels(), torch::kDouble));
  }
  s.layerwise = layer >= 0;
  return {s, sig};
}

// `repeats` estimates per site (flattened weight, bias), generator seed 21; empty for sites not estimated.
inline std::vector<std::vector<torch::Tensor>> repeated_estimates(Engine& e, const CleanPass& clean, int layer,
                                                                   int64_t copies, size_t sites, int64_t repeats) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
  std::vector<std::vector<torch::Tensor>> est(sites);
  for (int64_t r = 0; r < repeats; ++r) {
    if (layer >= 0) {
      auto g = e.layer(clean, layer, {copies}, gen).front();
      est[layer].push_back(flat(g.weight, g.bias));
    } else {
      auto g = e.joint(clean, {copies}, gen).front();
      for (size_t l = 0; l < sites; ++l) est[l].push_back(flat(g[l].weight, g[l].bias));
    }
  }
  return est;
}

// Over a site's n live coordinates (standard error > 0): Σz² is about χ²_n under an unbiased estimator (mean n,
// sd √(2n)), so it must stay below n + 6√(2n), and no single |z| may pass 5.5 (P < 1e-4 for n <= 600). With
// `check_power`, a 10 % bias must push Σz² past the same bound: an aggregate has the power a max-|z| rule
// lacks on the weakest sites. Coordinates no estimate ever moves (an embedding row nobody looks up, a weight
// fed by a unit ReLU keeps at zero) must equal the reference exactly.
inline void expect_unbiased(const std::vector<torch::Tensor>& est, const torch::Tensor& ref, bool check_power,
                            const std::string& what) {
  auto all = torch::stack(est);
  auto mean = all.mean(0);
  auto se = all.std(0) / std::sqrt(static_cast<double>(est.size()));
  auto live = se.gt(0);
  EXPECT_TRUE(torch::equal(mean.masked_select(~live), ref.masked_select(~live))) << what;
  auto z = ((mean - ref) / se).masked_select(live);
  auto zb = ((mean * 1.1 - ref) / (se * 1.1)).masked_select(live);
  const double n = static_cast<double>(z.numel()), bound = n + 6 * std::sqrt(2 * n);
  EXPECT_LT(z.square().sum().item<double>(), bound) << what;
  EXPECT_LT(z.abs().max().item<double>(), 5.5) << what;
  if (check_power) {
    EXPECT_GT(zb.square().sum().item<double>(), bound) << what;
  }
}

}  // namespace lrb::lr::check
