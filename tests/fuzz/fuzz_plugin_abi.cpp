// libFuzzer harness: the ELF reader that takes a plugin's ABI stamp from its ".lrbench_abi" section before
// dlopen (core/elf_stamp.h). Only ConfigError may leave it, and a stamp is at most 4,096 bytes with no NUL.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/elf_stamp.h"
#include "core/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    auto stamp = lrb::read_abi_stamp(in, "fuzz/plugin.so");
    if (stamp.size() > 4096 || stamp.find('\0') != std::string::npos) __builtin_trap();
  } catch (const lrb::ConfigError&) {
  }
  return 0;
}
