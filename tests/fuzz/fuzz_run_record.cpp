// libFuzzer harness: run.json, the record that vouches for a checkpoint (spec hash, sha256, status).
// Only CheckpointError may leave the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.h"
#include "experiments/run_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto r = lrb::parse_run_record(text, "fuzz/run.json");
    if (r.spec_hash.empty() || r.checkpoint_sha256.empty()) __builtin_trap();
  } catch (const lrb::CheckpointError&) {
  }
  try {  // as --resume reads it: a failed run may have no checkpoint yet
    auto r = lrb::parse_run_record(text, "fuzz/run.json", /*require_checkpoint=*/false);
    if (r.spec_hash.empty()) __builtin_trap();
  } catch (const lrb::CheckpointError&) {
  }
  return 0;
}
