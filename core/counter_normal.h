// Counter-based N(0, 1) noise (Philox4x32-10, Salmon et al. 2011, "Parallel random numbers: as easy as
// 1, 2, 3" — the generator behind cuRAND's and PyTorch's CUDA draws): value j of row (copy, row) under a
// 64-bit key is a pure function of (key, copy, row, j). Any process can therefore draw any range of copies
// of any examples, in any chunk shape and order, and get the bits another process would have drawn.
// Plain C++ (no torch), built with -ffp-contract=off and only IEEE +,-,*,/ and sqrt, so every CPU gives the
// same bits whichever SIMD width the compiler picked.
#pragma once
#include <cstdint>

namespace lrb {

// The row index of a draw that is shared by every row of a copy (e.g. one weight-noise kernel per copy).
inline constexpr uint32_t kSharedRow = 0xFFFFFFFFu;

// Fills out[0, n) with values [0, n) of row (copy, row) under `key`. Elements come in tiles of 256: element
// j = 256 t + 64 lane + i is lane `lane` of Philox block (t, i), so a row's first n values do not depend on n.
void counter_normal(uint64_t key, uint32_t copy, uint32_t row, int64_t n, float* out);

// The 4 raw 32-bit words of Philox4x32-10 for counter (c0, c1, c2, c3) and key (k0, k1): for tests against
// the published known-answer vectors.
void philox4x32_10(uint32_t ctr[4], uint32_t k0, uint32_t k1);

// A key for one stream: the step's key mixed with up to two small integers (layer, call), so streams never
// share a key.
uint64_t stream_key(uint64_t step_key, uint64_t a, uint64_t b = 0);

}  // namespace lrb
