// FLOP and memory accounting shared by the LR and ES step benchmarks: the fp32 GEMM ceiling of the running binary, the
// multiply-adds of a model's forward pass, and the counters every LR/ES benchmark prints: GFLOP per step,
// achieved GFLOP/s, and `ceiling`, its share of the GEMM ceiling (1 = the ceiling). FLOPs count the network
// work of the noisy passes (2 per multiply-add of every conv/linear call, weight-noise products included, as many
// as are computed: one per antithetic pair); the estimator's own reductions, element-wise work and noise draws are
// the overhead they are measured against.
#pragma once
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "core/batch.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "trainers/lr/engine.h"

namespace lrb::bench {

// An fp32 GEMM of 2048³ on the threads set when first called (the best of 5 calls, as BM_GemmCeiling/2048),
// measured once per process.
inline double gemm_ceiling_gflops() {
  static const double gflops = [] {
    const int64_t n = 2048;
    auto a = torch::randn({n, n}), b = torch::randn({n, n});
    auto c = torch::mm(a, b);
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      torch::mm_out(c, a, b);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * n * n * n / best / 1e9;
  }();
  return gflops;
}

// Multiply-adds of every site call in one clean forward of `batch` (a recurrent cell's call at every time
// step included), counted at the layer hook: output elements x fan-in; an embedding's lookup counts none.
// per_copy: leave out shared calls (call_layer_shared, e.g. a spiking net's image at every step), which the
// LR engine computes once for all copies.
inline double forward_macs(ClassifierImpl& model, const Batch& batch, bool per_copy = false) {
  torch::NoGradGuard ng;
  auto& lm = dynamic_cast<LayeredModel&>(model);
  auto layers = lm.layers();
  double macs = 0;
  lm.layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor&) {
    auto z = layers[l](x);
    if (!layers[l].is_embedding() && !(per_copy && lm.shared_copies() > 0)) macs += static_cast<double>(z.numel()) * layers[l].weight()[0].numel();
    return z;
  };
  model.forward(batch);
  lm.layer_hook = nullptr;
  return macs;
}

// FLOPs of one LR step. A chain with layer-wise injection runs, for each perturbed layer, its copies through
// the suffix after it (plus, under weight noise, the noise part of the layer itself for every antithetic pair);
// any other model runs whole noisy passes: each layer's copies (layer-wise) or one set of the largest count (joint).
inline double lr_step_flops(ClassifierImpl& model, const lr::EngineSettings& s, const Batch& batch) {
  torch::NoGradGuard ng;
  auto& lm = dynamic_cast<LayeredModel&>(model);
  const auto rows = static_cast<double>(batch.x.size(0));
  if (!lm.reuses_prefix() || !s.layerwise) {
    const double pass = 2.0 * forward_macs(model, batch, true);
    double copies = 0;
    for (const auto& l : s.layers)
      if (l.mode != lr::Mode::kNone) copies = s.layerwise ? copies + l.copies : std::max<double>(copies, l.copies);
    return pass * copies;
  }
  auto layers = lm.layers();
  auto t = lm.trace(batch);
  std::vector<double> macs;  // per example, each site
  for (size_t l = 0; l < layers.size(); ++l)
    macs.push_back(static_cast<double>(layers[l](t.inputs[l]).numel()) / rows * layers[l].weight()[0].numel());
  double total = 0;
  for (size_t l = 0; l < macs.size(); ++l) {
    if (s.layers[l].mode == lr::Mode::kNone) continue;
    // Weight noise: only the noise part σ·(x ⊛ ξ) is computed per copy, once per antithetic pair (the clean
    // product is the clean pass's).
    double per_row = s.layers[l].mode == lr::Mode::kWeight ? macs[l] * (s.antithetic ? 0.5 : 1.0) : 0;
    for (size_t k = l + 1; k < macs.size(); ++k) per_row += macs[k];
    total += 2.0 * per_row * s.layers[l].copies * rows;
  }
  return total;
}

// The same with only layer l perturbed: that layer's share of the step.
inline double lr_layer_flops(ClassifierImpl& model, lr::EngineSettings s, int l, const Batch& batch) {
  for (size_t k = 0; k < s.layers.size(); ++k)
    if (static_cast<int>(k) != l) s.layers[k].mode = lr::Mode::kNone;
  return lr_step_flops(model, s, batch);
}

// GFLOP (per iteration), GFLOP/s and the share of the GEMM ceiling, over the benchmark's real time.
inline void flop_counters(benchmark::State& state, double flops_per_iteration) {
  const double total = flops_per_iteration * static_cast<double>(state.iterations());
  state.counters["GFLOP"] = flops_per_iteration / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(total / 1e9, benchmark::Counter::kIsRate);
  state.counters["ceiling"] = benchmark::Counter(total / (gemm_ceiling_gflops() * 1e9), benchmark::Counter::kIsRate);
}

// Peak RSS since the last reset_peak_rss(): writing 5 to clear_refs resets VmHWM (Linux >= 4.0), so each
// benchmark reports its own peak (which includes the ~0.3 GB of the loaded libraries), not the process's.
inline void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

inline double peak_rss_gb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / (1024.0 * 1024.0);
  return 0;
}

}  // namespace lrb::bench
