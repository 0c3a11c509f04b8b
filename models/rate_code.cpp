#include "models/rate_code.h"

#include <torch/torch.h>

#include <cstring>

#include "core/counter_normal.h"

namespace lrb {
namespace {

// FNV-1a over the bytes of one example's pixels: the draw follows the image, not its position in a batch.
uint64_t row_hash(const float* p, int64_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  for (int64_t i = 0; i < n * static_cast<int64_t>(sizeof(float)); ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace

torch::Tensor poisson_spikes(const torch::Tensor& x, int64_t steps, uint64_t key) {
  TORCH_CHECK(x.dim() == 2, "poisson_spikes: expects [B, F]");
  // host: the draw is a loop over Philox blocks on the host (images are small next to the net's products)
  auto xc = x.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t B = xc.size(0), F = xc.size(1);
  auto out = torch::empty({steps, B, F}, torch::kFloat);
  const float* px = xc.data_ptr<float>();
  float* po = out.data_ptr<float>();
  constexpr float kUnit = 1.0f / 16777216.0f;  // 24 bits: u in [0, 1), so p = 0 never spikes and p = 1 always does
  for (int64_t b = 0; b < B; ++b) {
    const float* row = px + b * F;
    const uint64_t k = stream_key(key, row_hash(row, F));
    for (int64_t t = 0; t < steps; ++t) {
      float* o = po + (t * B + b) * F;
      for (int64_t j = 0; j < F; j += 4) {
        uint32_t ctr[4] = {static_cast<uint32_t>(j / 4), static_cast<uint32_t>(t), 0x7261u /* "ra" */, 0};
        philox4x32_10(ctr, static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32));
        for (int64_t i = 0; i < 4 && j + i < F; ++i)
          o[j + i] = static_cast<float>(ctr[i] >> 8) * kUnit < row[j + i] ? 1.0f : 0.0f;
      }
    }
  }
  auto s = out.to(x.device(), x.scalar_type());
  if (!x.requires_grad()) return s;
  auto xs = x.unsqueeze(0);
  return s + (xs - xs.detach());  // straight through: the value is the spikes, the gradient x's
}

}  // namespace lrb
