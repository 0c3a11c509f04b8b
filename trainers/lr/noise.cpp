#include "trainers/lr/noise.h"

#include "core/counter_normal.h"
#include "core/seed.h"

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
    : dim_(dim), v_(dim * kBits), shift_(dim) {
  TORCH_CHECK(dim >= 1 && dim <= kMaxDim, "Sobol dimension must be in [1, ", kMaxDim, "] (got ", dim, ")");
  TORCH_CHECK(static_cast<int64_t>(ltm_rows.size()) == dim * kBits && static_cast<int64_t>(shift.size()) == dim,
              "Sobol scramble inputs have the wrong size");
  // host: the Sobol direction numbers are host data
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
    shift_[d] = static_cast<uint32_t>(shift[d]) & ((1u << kBits) - 1);
  }
}

template <class F>
void SobolSequence::walk(int64_t start, int64_t n, F&& emit) const {
  TORCH_CHECK(start >= 0 && start + n <= (int64_t{1} << kBits), "Sobol points must lie in [0, 2^30)");
  // Point k is the shift XOR the direction numbers at the set bits of k's Gray code (ATen's draw order):
  // the first point of the range directly, then each next one by the lowest set bit of its index.
  // Dimensions are independent, so threads split them.
  const auto gray = static_cast<uint64_t>(start ^ (start >> 1));
  at::parallel_for(0, dim_, 256, [&](int64_t d0, int64_t d1) {
    std::vector<uint32_t> quasi(shift_.begin() + d0, shift_.begin() + d1);
    for (int b = 0; b < kBits; ++b)
      if ((gray >> b) & 1)
        for (int64_t d = d0; d < d1; ++d) quasi[d - d0] ^= v_[d * kBits + b];
    for (int64_t i = 0; i < n; ++i) {
      const int l = i == 0 ? -1 : __builtin_ctzll(static_cast<uint64_t>(start + i));
      for (int64_t d = d0; d < d1; ++d) {
        if (l >= 0) quasi[d - d0] ^= v_[d * kBits + l];
        emit(i * dim_ + d, (quasi[d - d0] + 0.5) * (1.0 / (1u << kBits)));
      }
    }
  });
}

void SobolSequence::uniform(int64_t start, int64_t n, double* out) const {
  walk(start, n, [out](int64_t idx, double u) { out[idx] = u; });
}

void SobolSequence::normal(int64_t start, int64_t n, float* out) const {
  walk(start, n, [out](int64_t idx, double u) { out[idx] = static_cast<float>(inverse_normal_cdf(u)); });
}

NoiseSource::NoiseSource(Source source, int64_t dim, uint64_t key, int64_t rows_per_copy, torch::TensorOptions opts)
    : source_(source), dim_(dim), key_(key), rows_per_copy_(rows_per_copy), opts_(opts) {
  TORCH_CHECK(dim > 0, "noise dimension must be positive (got ", dim, ")");
  TORCH_CHECK(rows_per_copy >= 1, "noise rows per copy must be positive (got ", rows_per_copy, ")");
  if (source_ != Source::kSobol) return;
  for (int64_t start = 0; start < dim; start += SobolSequence::kMaxDim) {
    const int64_t d = std::min(SobolSequence::kMaxDim, dim - start);
    // Scramble rows and shift from the key (30-bit words): every point is then marginally uniform, so the LR
    // estimate stays unbiased.
    // host: the Sobol scramble is host data
    auto gen = make_generator(stream_key(key_, static_cast<uint64_t>(start), 0x50B01));
    auto words = at::randint(int64_t{1} << SobolSequence::kBits, {d * SobolSequence::kBits + d}, gen, torch::kLong);
    auto w = words.accessor<int64_t, 1>();
    std::vector<int64_t> rows(w.data(), w.data() + d * SobolSequence::kBits);
    std::vector<int64_t> shift(w.data() + d * SobolSequence::kBits, w.data() + words.numel());
    blocks_.emplace_back(d, rows, shift);
  }
}

torch::Tensor NoiseSource::sobol(int64_t first_point, int64_t n) const {
  std::vector<torch::Tensor> parts;
  for (const auto& b : blocks_) {
    // host: drawn on the host (counter-based, the same bits on every device); rows()/per_copy() move it
    auto t = torch::empty({n, b.dim()}, torch::kFloat);
    b.normal(first_point, n, t.data_ptr<float>());
    parts.push_back(t);
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
}

namespace {
// out[i] = the dim values of (copy, row) = address(i), i in [0, n): rows are independent, so threads split them.
template <class Address>
void fill_counter(uint64_t key, int64_t n, int64_t dim, float* out, Address address) {
  at::parallel_for(0, n, std::max<int64_t>(1, 32768 / dim), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const auto [copy, row] = address(i);
      counter_normal(key, static_cast<uint32_t>(copy), static_cast<uint32_t>(row), dim, out + i * dim);
    }
  });
}
}  // namespace

torch::Tensor NoiseSource::rows(int64_t c0, int64_t h, int64_t b0, int64_t b1, bool example_major) const {
  const int64_t bc = b1 - b0;
  TORCH_CHECK(c0 >= 0 && h >= 0 && b0 >= 0 && bc >= 0 && c0 + h <= (int64_t{1} << 32) - 1 &&
                  b1 <= (int64_t{1} << 32) - 1,
              "noise rows out of range (copies [", c0, ", ", c0 + h, "), rows [", b0, ", ", b1, "))");
  // host: drawn on the host (counter-based, the same bits on every device), moved to opts_ below
  auto out = torch::empty(example_major ? std::vector<int64_t>{bc, h, dim_} : std::vector<int64_t>{h, bc, dim_},
                          torch::kFloat);
  if (source_ == Source::kSobol) {
    for (int64_t c = 0; c < h; ++c) {  // copy c's rows are consecutive points
      auto pts = sobol((c0 + c) * rows_per_copy_ + b0, bc);
      (example_major ? out.select(1, c) : out.select(0, c)).copy_(pts);
    }
  } else {
    fill_counter(key_, bc * h, dim_, out.data_ptr<float>(), [&](int64_t i) {
      const int64_t b = example_major ? i / h : i % bc, c = example_major ? i % h : i / bc;
      return std::pair<int64_t, int64_t>{c0 + c, b0 + b};
    });
  }
  return out.to(opts_);
}

torch::Tensor NoiseSource::per_copy(int64_t c0, int64_t h) const {
  TORCH_CHECK(c0 >= 0 && h >= 0 && c0 + h <= (int64_t{1} << 32) - 1, "noise copies out of range");
  if (source_ == Source::kSobol) return sobol(c0, h).to(opts_);
  // host: drawn on the host (counter-based, the same bits on every device), moved to opts_ below
  auto out = torch::empty({h, dim_}, torch::kFloat);
  fill_counter(key_, h, dim_, out.data_ptr<float>(),
               [&](int64_t i) { return std::pair<int64_t, int64_t>{c0 + i, kSharedRow}; });
  return out.to(opts_);
}

}  // namespace lrb::lr
