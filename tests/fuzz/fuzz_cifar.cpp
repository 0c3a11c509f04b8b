// libFuzzer harness: CIFAR-10 binary record check. Never throws; returns a problem or "".
#include <cstddef>
#include <cstdint>
#include <string>

#include "datasets/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const auto problem = lrb::datasets::cifar_record_problem(bytes);
  if (problem.empty() && size % lrb::datasets::kCifarRecord != 0) __builtin_trap();  // accepted a partial record
  return 0;
}
