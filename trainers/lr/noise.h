// Standard-normal noise for the LR engine, addressable: the draw for row b of copy c of a stream is a pure
// function of (stream key, c, b), so any process computes any range of copies of any rows, in any chunk shape
// and order, and gets the same bits. Pseudo-random draws are counter-based (core/counter_normal.h); randomised
// quasi-Monte Carlo draws are scrambled Sobol points (mapped through the inverse normal CDF) indexed by
// c * rows_per_copy + b, the scramble seeded by the key.
#pragma once
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
  // Points [start, start + n) as uniforms in (0,1) (cell centres, never 0 or 1): out[i*dim + d].
  void uniform(int64_t start, int64_t n, double* out) const;
  // Points [start, start + n) mapped to N(0,1): out[i*dim + d].
  void normal(int64_t start, int64_t n, float* out) const;
  int64_t dim() const { return dim_; }

 private:
  template <class F>
  void walk(int64_t start, int64_t n, F&& emit) const;
  int64_t dim_;
  std::vector<uint32_t> v_;      // direction numbers after scrambling, [dim][30]
  std::vector<uint32_t> shift_;  // point 0's integers (the digital shift)
};

// Inverse standard-normal CDF (Acklam's rational approximation, |relative error| < 1.2e-9).
double inverse_normal_cdf(double p);

// The `dim`-dimensional N(0, I) draws of one stream (a layer's noise at one step, or one call of it).
class NoiseSource {
 public:
  // rows_per_copy: the rows one copy spans (the batch, or a call's rows); it spaces the Sobol indices only.
  NoiseSource(Source source, int64_t dim, uint64_t key, int64_t rows_per_copy, torch::TensorOptions opts);
  // Rows [b0, b1) of copies [c0, c0 + h): [b1 - b0, h, dim] (example_major) or [h, b1 - b0, dim].
  torch::Tensor rows(int64_t c0, int64_t h, int64_t b0, int64_t b1, bool example_major) const;
  // One draw per copy, shared by all its rows (core/counter_normal.h kSharedRow): [h, dim].
  torch::Tensor per_copy(int64_t c0, int64_t h) const;
  int64_t dim() const { return dim_; }

 private:
  torch::Tensor sobol(int64_t first_point, int64_t n) const;  // [n, dim] float
  Source source_;
  int64_t dim_;
  uint64_t key_;
  int64_t rows_per_copy_;
  torch::TensorOptions opts_;
  std::vector<SobolSequence> blocks_;
};

}  // namespace lrb::lr
