// libFuzzer harness: the CSV reader that loads eval results, kept per-threat parts and --check files.
// Only lrb::Error may leave it; what it parses must print back and parse again to the same table.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/csv.h"
#include "core/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto t = lrb::CsvTable::parse(text, "fuzz.csv");
    if (lrb::CsvTable::parse(t.str(), "again.csv").str() != t.str()) __builtin_trap();
  } catch (const lrb::Error&) {
  }
  return 0;
}
