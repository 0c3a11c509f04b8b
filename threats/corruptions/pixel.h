// Shared pieces of the image corruptions: they work on [0,1] pixels before the model's normalisation
// and clip back to [0,1] (docs/ATTACKS.md §4, pitfall 1).
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/batch.h"

namespace lrb::pixel {

// The example's shape without the batch dim: what a per-example draw looks like.
inline std::vector<int64_t> example_shape(const Batch& example) {
  auto s = example.x.sizes().vec();
  TORCH_CHECK(!s.empty() && s[0] == 1, "a corruption draw expects a 1-example batch");
  return {s.begin() + 1, s.end()};
}

// apply() is only meaningful with one draw per row of `clean`; a mismatch is a caller bug.
inline void check_draws(const std::string& key, const Batch& clean, const torch::Tensor& draws,
                        const std::vector<int64_t>& expected) {
  if (!draws.defined())
    throw std::invalid_argument(key + ": apply() needs the per-example draws (use corrupt())");
  if (draws.sizes().vec() != expected)
    throw std::invalid_argument(fmt::format("{}: draws have shape [{}], expected [{}] for inputs [{}]", key,
                                            fmt::join(draws.sizes(), ","), fmt::join(expected, ","),
                                            fmt::join(clean.x.sizes(), ",")));
}

inline void check_draws(const std::string& key, const Batch& clean, const torch::Tensor& draws) {
  check_draws(key, clean, draws, clean.x.sizes().vec());
}

// `clean` with its pixels replaced by clip(x, 0, 1), in the clean dtype.
inline Batch clipped(const Batch& clean, const torch::Tensor& x) {
  Batch out = clean;
  out.x = torch::clamp(x, 0.0, 1.0).to(clean.x.scalar_type()).detach();
  return out;
}

}  // namespace lrb::pixel
