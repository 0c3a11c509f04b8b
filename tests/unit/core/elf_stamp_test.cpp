// The plugin ABI stamp reader (core/elf_stamp.h) on the minimal ELF shared objects of the fuzz seeds
// (tools/fuzz_seeds.py) and on damaged copies of them: each defect is refused with its own reason.
#include "core/elf_stamp.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/plugin.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
std::string seed(const std::string& name) {
  std::ifstream in(test::source_dir() + "/tests/fuzz/corpus/plugin_abi/seed-" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string stamp_of(const std::string& bytes) {
  std::istringstream in(bytes);
  return read_abi_stamp(in, "x.so");
}

// The message of the ConfigError stamp_of throws, or "no error".
std::string refusal(const std::string& bytes) {
  try {
    stamp_of(bytes);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

template <class T>
void poke(std::string& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}
}  // namespace

TEST(ElfStamp, ReadsTheStampSectionOrNothing) {
  const auto so = seed("stamped");
  ASSERT_GT(so.size(), sizeof(Elf64_Ehdr));
  EXPECT_EQ(stamp_of(so), "lrbench 0.1.0; torch 1.13.0; gxx-abi 1017; cxx11-abi 1");
  EXPECT_EQ(stamp_of(seed("unstamped")), "");
}

TEST(ElfStamp, RefusesEachDefectWithItsReason) {
  const auto so = seed("stamped");
  Elf64_Ehdr eh;
  ASSERT_GT(so.size(), sizeof eh);
  std::memcpy(&eh, so.data(), sizeof eh);
  auto with = [&](auto edit) {
    auto copy = so;
    edit(copy);
    return refusal(copy);
  };
  EXPECT_NE(refusal(so.substr(0, 20)).find("plugin x.so: not a 64-bit ELF shared object (no ELF header)"), std::string::npos);
  EXPECT_NE(refusal(std::string(so.size(), 'x')).find("(no ELF header)"), std::string::npos);
  EXPECT_NE(with([](std::string& b) { b[EI_CLASS] = ELFCLASS32; }).find("(not ELF64 little-endian)"), std::string::npos);
  EXPECT_NE(with([](std::string& b) { poke<uint16_t>(b, offsetof(Elf64_Ehdr, e_type), ET_EXEC); }).find("(not a shared object)"),
            std::string::npos);
  // The section table cut off by the file's end.
  EXPECT_NE(refusal(so.substr(0, so.size() - 1)).find("(section table out of bounds)"), std::string::npos);
  EXPECT_NE(with([&](std::string& b) { poke<uint16_t>(b, offsetof(Elf64_Ehdr, e_shstrndx), eh.e_shnum); })
                .find("(section table out of bounds)"),
            std::string::npos);
  // The stamp section (index 2) reaching past the file, or longer than 4,096 bytes.
  const size_t stamp_sh = eh.e_shoff + 2 * sizeof(Elf64_Shdr);
  EXPECT_NE(with([&](std::string& b) { poke<uint64_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_size), so.size()); })
                .find("(bad .lrbench_abi)"),
            std::string::npos);
  EXPECT_NE(with([&](std::string& b) {
              poke<uint64_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_offset), b.size());
              poke<uint64_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_size), 4097);
              b.append(4097, 'a');
            }).find("(bad .lrbench_abi)"),
            std::string::npos);
  EXPECT_EQ(with([&](std::string& b) {  // 4,096 bytes is still a stamp
              poke<uint64_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_offset), b.size());
              poke<uint64_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_size), 4096);
              b.append(4096, 'a');
            }),
            "no error");
  EXPECT_NE(with([&](std::string& b) { poke<uint32_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_type), SHT_NOBITS); })
                .find("(bad .lrbench_abi)"),
            std::string::npos);
  // Names pointing outside the names table never match: no stamp, no error.
  EXPECT_EQ(with([&](std::string& b) { poke<uint32_t>(b, stamp_sh + offsetof(Elf64_Shdr, sh_name), 1000); }), "no error");
}

TEST(ElfStamp, PluginPathThatCannotBeRead) {
  try {
    read_plugin_abi("/nonexistent/libx.so");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("plugin /nonexistent/libx.so: cannot read the file"), std::string::npos) << e.what();
  }
}
