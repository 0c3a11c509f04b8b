// libFuzzer harness: IDX parsing (MNIST, Fashion-MNIST). The first byte picks the dimension count the
// caller asks for (1..4), the rest is the file. Only DataError may leave the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.h"
#include "datasets/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int ndim = 1 + data[0] % 4;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    auto a = lrb::datasets::parse_idx(bytes, ndim, "fuzz.idx");
    uint64_t n = 1;
    for (auto d : a.dims) n *= static_cast<uint64_t>(d);
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < n; ++i) sink = sink ^ a.data[i];  // every promised byte must be readable
  } catch (const lrb::DataError&) {
  }
  return 0;
}
