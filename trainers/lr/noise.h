// Standard-normal noise for the LR engine: pseudo-random (the run's generator) or randomised
// quasi-Monte Carlo (scrambled Sobol points mapped through the inverse normal CDF).
#pragma once
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lrb::lr {

enum class Source { kMC, kSobol };

// One scrambled Sobol sequence of up to kMaxDim dimensions. Direction numbers come from ATen's engine
// (at::_sobol_engine_initialize_state_, the Joe-Kuo table torch.quasirandom.SobolEngine uses); the
// linear matrix scramble and digital shift follow SobolEngine(scramble=True) bit for bit, but run as
// word-parallel loops: ATen's scramble and draw ops cost ~1 s per 20k dimensions and ~25 ns per value.
class SobolSequence {
 public:
  static constexpr int64_t kMaxDim = 21201;
  static constexpr int kBits = 30;
  // ltm_rows[d*30 + p]: row p of dimension d's lower-triangular scramble matrix as an integer (bit
  // 29-k = column k; the unit diagonal is added here); shift[d]: the digital shift (30 bits).
  SobolSequence(int64_t dim, const std::vector<int64_t>& ltm_rows, const std::vector<int64_t>& shift);
  // The next n points as uniforms in (0,1) (cell centres, never 0 or 1): out[i*dim + d].
  void next_uniform(int64_t n, double* out);
  // The next n points mapped to N(0,1): out[i*dim + d].
  void next_normal(int64_t n, float* out);
  int64_t dim() const { return dim_; }

 private:
  template <class F>
  void walk(int64_t n, F&& emit);
  int64_t dim_, generated_ = 0;
  std::vector<uint32_t> v_;      // direction numbers after scrambling, [dim][30]
  std::vector<uint32_t> quasi_;  // the last point's integers
};

// Inverse standard-normal CDF (Acklam's rational approximation, |relative error| < 1.2e-9).
double inverse_normal_cdf(double p);

// A stream of `dim`-dimensional N(0, I) points. Sobol streams keep their state across next() calls,
// so successive chunks continue one low-discrepancy sequence; dimensions beyond SobolSequence::kMaxDim
// are split into blocks, each an independently scrambled sequence.
class NoiseStream {
 public:
  NoiseStream(Source source, int64_t dim, at::Generator& gen, torch::TensorOptions opts);
  torch::Tensor next(int64_t points);  // [points, dim]
  int64_t dim() const { return dim_; }

 private:
  Source source_;
  int64_t dim_;
  at::Generator gen_;
  torch::TensorOptions opts_;
  std::vector<SobolSequence> blocks_;
};

}  // namespace lrb::lr
