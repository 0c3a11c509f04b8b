// libFuzzer harness: AG News CSV parsing with and without HTML unescaping. Only DataError may leave it,
// and every row it returns must have a label 0..3 and its title seam inside the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.h"
#include "datasets/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (bool unescape : {false, true}) {
    try {
      for (const auto& r : lrb::datasets::parse_ag_news_csv(bytes, "fuzz.csv", unescape))
        if (r.label < 0 || r.label > 3 || r.title_size > r.text.size()) __builtin_trap();
    } catch (const lrb::DataError&) {
    }
  }
  return 0;
}
