#include "trainers/lr/noise.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace lrb::lr {

double inverse_normal_cdf(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double lo = 0.02425, hi = 1 - lo;
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  if (p < lo) return tail(std::sqrt(-2 * std::log(p)));
  if (p > hi) return -tail(std::sqrt(-2 * std::log1p(-p)));
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

SobolSequence::SobolSequence(int64_t dim, const std::vector<int64_t>& ltm_rows, const std::vector<int64_t>& shift)
    : dim_(dim), v_(dim * kBits), quasi_(dim) {
  TORCH_CHECK(dim >= 1 && dim <= kMaxDim, "Sobol dimension must be in [1, ", kMaxDim, "] (got ", dim, ")");
  TORCH_CHECK(static_cast<int64_t>(ltm_rows.size()) == dim * kBits && static_cast<int64_t>(shift.size()) == dim,
              "Sobol scramble inputs have the wrong size");
  auto state = torch::zeros({dim, kBits}, torch::kLong);
  at::_sobol_engine_initialize_state_(state, dim);
  auto s = state.accessor<int64_t, 2>();
  // The linear matrix scramble of ATen's _sobol_engine_scramble_: bit (29-p) of the new direction number
  // is the parity of (row p of the lower-triangular matrix, with unit diagonal) AND (the old number).
  for (int64_t d = 0; d < dim; ++d) {
    for (int j = 0; j < kBits; ++j) {
      const uint64_t old = static_cast<uint64_t>(s[d][j]);
      uint32_t out = 0;
      for (int p = 0; p < kBits; ++p) {
        const uint64_t keep_above = ~((uint64_t{1} << (kBits - p)) - 1) & ((uint64_t{1} << kBits) - 1);
        const uint64_t row = (static_cast<uint64_t>(ltm_rows[d * kBits + p]) & keep_above) | (uint64_t{1} << (kBits - 1 - p));
        out |= static_cast<uint32_t>(__builtin_parityll(row & old)) << (kBits - 1 - p);
      }
      v_[d * kBits + j] = out;
    }
    quasi_[d] = static_cast<uint32_t>(shift[d]) & ((1u << kBits) - 1);
  }
}

template <class F>
void SobolSequence::walk(int64_t n, F&& emit) {
  const int64_t start = generated_;
  // Point k >= 1 is point k-1 XOR the direction number at the lowest zero bit of k-1 (Gray-code
  // order, as ATen's draw); point 0 is the shift. Dimensions are independent, so threads split them.
  at::parallel_for(0, dim_, 256, [&](int64_t d0, int64_t d1) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = start + i;
      const int l = k == 0 ? -1 : __builtin_ctzll(~static_cast<uint64_t>(k - 1));
      for (int64_t d = d0; d < d1; ++d) {
        if (l >= 0) quasi_[d] ^= v_[d * kBits + l];
        emit(i * dim_ + d, (quasi_[d] + 0.5) * (1.0 / (1u << kBits)));
      }
    }
  });
  generated_ += n;
}

void SobolSequence::next_uniform(int64_t n, double* out) {
  walk(n, [out](int64_t idx, double u) { out[idx] = u; });
}

void SobolSequence::next_normal(int64_t n, float* out) {
  walk(n, [out](int64_t idx, double u) { out[idx] = static_cast<float>(inverse_normal_cdf(u)); });
}

NoiseStream::NoiseStream(Source source, int64_t dim, at::Generator& gen, torch::TensorOptions opts)
    : source_(source), dim_(dim), gen_(gen), opts_(opts) {
  TORCH_CHECK(dim > 0, "noise dimension must be positive (got ", dim, ")");
  if (source_ != Source::kSobol) return;
  for (int64_t start = 0; start < dim; start += SobolSequence::kMaxDim) {
    const int64_t d = std::min(SobolSequence::kMaxDim, dim - start);
    // Scramble rows and shift from the run's generator (30-bit words): every point is then marginally
    // uniform, so the LR estimate stays unbiased.
    auto words = at::randint(int64_t{1} << SobolSequence::kBits, {d * SobolSequence::kBits + d}, gen_, torch::kLong);
    auto w = words.accessor<int64_t, 1>();
    std::vector<int64_t> rows(w.data(), w.data() + d * SobolSequence::kBits);
    std::vector<int64_t> shift(w.data() + d * SobolSequence::kBits, w.data() + words.numel());
    blocks_.emplace_back(d, rows, shift);
  }
}

torch::Tensor NoiseStream::next(int64_t points) {
  TORCH_CHECK(points >= 0, "noise points must be >= 0 (got ", points, ")");
  if (source_ == Source::kMC) return at::randn({points, dim_}, gen_, opts_);
  std::vector<torch::Tensor> parts;
  for (auto& b : blocks_) {
    auto t = torch::empty({points, b.dim()}, torch::kFloat);
    b.next_normal(points, t.data_ptr<float>());
    parts.push_back(t);
  }
  auto out = parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
  return out.to(opts_);
}

}  // namespace lrb::lr
