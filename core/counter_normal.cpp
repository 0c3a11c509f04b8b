#include "core/counter_normal.h"

#include <cstring>

namespace lrb {

uint64_t splitmix64(uint64_t x);  // core/seed.h, which would pull ATen into this torch-free file

namespace {
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kLanes = 4, kBlock = 64, kTile = kLanes * kBlock;

inline float as_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t as_uint(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// ln x for x in (0, 1] (Cephes logf: |relative error| ~1e-7), branch-free so that loops over it vectorise.
inline float log_unit(float x) {
  const uint32_t bits = as_uint(x);
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 126);
  float m = as_float((bits & 0x007FFFFFu) | 0x3F000000u);  // [0.5, 1)
  // m < √½: use 2m and e − 1 (an arithmetic blend: a branch would stop the loop from vectorising).
  const float small = static_cast<float>(static_cast<int32_t>(as_uint(m - 0.70710678f) >> 31));
  e -= small;
  m = m + small * m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

// Box-Muller on two words: the radius from u1 in (0, 1), the angle 2π·u2 split into a quadrant and an offset
// in [-π/4, π/4], where Cephes' sinf/cosf polynomials hold.
inline void box_muller(uint32_t w1, uint32_t w2, float& c_out, float& s_out) {
  const float u1 = (static_cast<float>(static_cast<int32_t>(w1 >> 8)) + 0.5f) * (1.0f / 16777216.0f);
  const float r = __builtin_sqrtf(-2.0f * log_unit(u1));
  const uint32_t v = w2 >> 6;                         // 26 bits: angle = 2π (v + 0.5) / 2^26
  const uint32_t n = (v + (1u << 23)) >> 24;          // nearest quarter turn, 0..4
  const float d = static_cast<float>(static_cast<int32_t>(v - (n << 24))) + 0.5f;  // exact, |d| <= 2^23
  const float x = d * (1.5707963267948966f / 16777216.0f);
  const float z = x * x;
  const float s = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
  const float c = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
                  0.5f * z + 1.0f;
  // Rotate by q = n mod 4 quarter turns: (cos, sin) -> (c, s), (-s, c), (-c, -s), (s, -c). Masks and sign
  // bits, not branches, so that the loop vectorises at every SIMD width.
  const uint32_t swap = 0u - (n & 1u), cs = as_uint(c), ss = as_uint(s);
  const uint32_t a = (cs & ~swap) | (ss & swap), b = (ss & ~swap) | (cs & swap);
  const uint32_t flip_a = ((n ^ (n >> 1)) & 1u) << 31, flip_b = (n & 2u) << 30;
  c_out = r * as_float(a ^ flip_a);
  s_out = r * as_float(b ^ flip_b);
}

inline void philox(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0, p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0, c1 = lo1, c2 = n2, c3 = lo0;
    k0 += kW0, k1 += kW1;
  }
}

// One tile: 64 Philox blocks (counter = tile * 64 + i), their 4 words turned into 4 normals, lane-planar.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void tile(uint32_t k0, uint32_t k1, uint32_t tile_index, uint32_t copy, uint32_t row, float* out) {
  uint32_t w0[kBlock], w1[kBlock], w2[kBlock], w3[kBlock];
  for (int i = 0; i < kBlock; ++i) {
    uint32_t c0 = tile_index * kBlock + static_cast<uint32_t>(i), c1 = 0, c2 = row, c3 = copy;
    philox(c0, c1, c2, c3, k0, k1);
    w0[i] = c0, w1[i] = c1, w2[i] = c2, w3[i] = c3;
  }
  for (int i = 0; i < kBlock; ++i) {
    box_muller(w0[i], w1[i], out[i], out[kBlock + i]);
    box_muller(w2[i], w3[i], out[2 * kBlock + i], out[3 * kBlock + i]);
  }
}
}  // namespace

void philox4x32_10(uint32_t ctr[4], uint32_t k0, uint32_t k1) { philox(ctr[0], ctr[1], ctr[2], ctr[3], k0, k1); }

void counter_normal(uint64_t key, uint32_t copy, uint32_t row, int64_t n, float* out) {
  const auto k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  float buf[kTile];
  for (int64_t t = 0; t * kTile < n; ++t) {
    if ((t + 1) * kTile <= n) {
      tile(k0, k1, static_cast<uint32_t>(t), copy, row, out + t * kTile);
    } else {
      tile(k0, k1, static_cast<uint32_t>(t), copy, row, buf);
      std::memcpy(out + t * kTile, buf, static_cast<size_t>(n - t * kTile) * sizeof(float));
    }
  }
}

uint64_t stream_key(uint64_t step_key, uint64_t a, uint64_t b) {
  return splitmix64(splitmix64(step_key ^ splitmix64(a + 0x632be59bd9b4e019ULL)) ^ splitmix64(b + 0x8cb92ba72f3d8dd7ULL));
}

}  // namespace lrb
