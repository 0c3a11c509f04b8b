// The ABI stamp of an out-of-tree plugin: the contents of its ".lrbench_abi" section, read from the ELF file
// itself before dlopen (core/plugin.h), so a plugin built for another lrbench or LibTorch is refused before
// any of its code runs. Plain C++ (no torch): the fuzz harness tests/fuzz/fuzz_plugin_abi.cpp feeds it bytes.
#pragma once
#include <istream>
#include <string>

namespace lrb {

// The bytes of `in`'s ".lrbench_abi" section up to its first NUL (at most 4,096 bytes), or "" when the file is
// a 64-bit little-endian ELF shared object (ET_DYN) without such a section. Reads only the ELF header, the
// section table, the section names and the stamp: a plugin may be large, and this runs at every start-up.
// Throws ConfigError("plugin <path>", ...) naming the defect and the fix when `in` is not such an object or
// a table or the section lies outside the file (`path` only names the file in the message).
std::string read_abi_stamp(std::istream& in, const std::string& path);

}  // namespace lrb
