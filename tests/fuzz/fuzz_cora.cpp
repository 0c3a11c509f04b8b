// libFuzzer harness: the integer rows of Cora's text files. Only std::invalid_argument (which the loader
// turns into a DataError naming the file) may leave the parser.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "datasets/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& row : lrb::datasets::parse_int_rows(bytes))
      if (row.empty()) __builtin_trap();  // empty lines are skipped, never returned
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
