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

// Over a site's n live coordinates (standard error > 0), the squared distance of the mean from the exact
// gradient in units of its estimated covariance must stay below n + 6√(2n) (a χ²_n has mean n, sd √(2n)), and
// no single |z| may pass 5.5 (P < 1e-4 for n <= 600). A small site (n <= repeats / 20) uses its full covariance
// (Hotelling's T² over the directions with variance, n their count, times (R−n)/(R−1): about χ²_n for n ≪ R): its
// coordinates can be nearly copies of each other (GAT's attention: the features of both ends of an edge),
// so one 2.5σ draw would count n times in a sum of squared z. A larger site (too many coordinates to
// estimate their covariance from the repeats) sums the squared per-coordinate z. With `check_power`, a 10 %
// bias (every estimate × 1.1) must push the statistic past the same bound: an aggregate has the power a
// max-|z| rule lacks on the weakest sites. Coordinates no estimate ever moves (an embedding row nobody looks
// up, a weight fed by a unit ReLU keeps at zero) must equal the reference exactly.
inline void expect_unbiased(const std::vector<torch::Tensor>& est, const torch::Tensor& ref, bool check_power,
                            const std::string& what) {
  auto all = torch::stack(est);
  const double R = static_cast<double>(est.size());
  auto mean = all.mean(0);
  auto se = all.std(0) / std::sqrt(R);
  auto live = se.gt(0);
  EXPECT_TRUE(torch::equal(mean.masked_select(~live), ref.masked_select(~live))) << what;
  auto z = ((mean - ref) / se).masked_select(live);
  EXPECT_LT(z.abs().max().item<double>(), 5.5) << what;
  double n = static_cast<double>(z.numel()), stat = 0, biased = 0;
  if (n <= R / 20) {
    auto idx = live.nonzero().squeeze(1);
    auto d = all.index_select(1, idx);
    d = d - d.mean(0);
    auto cov = d.t().mm(d) / (R - 1) / R;  // of the mean
    // Hotelling's T² through the eigenbasis: directions with no variance (to 1e-9 of the largest) are dropped.
    auto [L, V] = at::linalg_eigh(cov, "L");  // torch::linalg (C++ API) is gone from LibTorch 2.x
    auto keep = L.gt(L.max() * 1e-9);
    const double p = static_cast<double>(keep.sum().item<int64_t>());
    auto t2 = [&](const torch::Tensor& dev, double scale) {
      auto proj = V.t().mv(dev).masked_select(keep);
      return (proj.square() / L.masked_select(keep)).sum().item<double>() / scale * (R - p) / (R - 1);
    };
    auto dev = (mean - ref).index_select(0, idx);
    stat = t2(dev, 1), biased = t2((mean * 1.1 - ref).index_select(0, idx), 1.21), n = p;
  } else {
    stat = z.square().sum().item<double>();
    biased = ((mean * 1.1 - ref) / (se * 1.1)).masked_select(live).square().sum().item<double>();
  }
  const double bound = n + 6 * std::sqrt(2 * n);
  EXPECT_LT(stat, bound) << what << (n <= R / 20 ? " (T²)" : " (Σz²)");
  if (check_power) {
    EXPECT_GT(biased, bound) << what << " (power)";
  }
}

}  // namespace lrb::lr::check
