#include "core/elf_stamp.h"

#include <elf.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#include "core/errors.h"

namespace lrb {

std::string read_abi_stamp(std::istream& in, const std::string& path) {
  auto bad = [&](const char* why) {
    return ConfigError(fmt::format("plugin {}", path),
                       fmt::format("not a 64-bit ELF shared object ({}); give the plugin's .so file", why));
  };
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (!in || end < 0) throw bad("cannot tell its size");
  const uint64_t size = static_cast<uint64_t>(end);
  // Callers check that [offset, offset + n) lies inside the file.
  auto read_at = [&](uint64_t offset, uint64_t n) {
    std::string out(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(out.data(), static_cast<std::streamsize>(n))) throw bad("truncated");
    return out;
  };
  Elf64_Ehdr eh;
  if (size < sizeof eh) throw bad("no ELF header");
  const auto head = read_at(0, sizeof eh);
  if (std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) throw bad("no ELF header");
  std::memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) throw bad("not ELF64 little-endian");
  if (eh.e_type != ET_DYN) throw bad("not a shared object");
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size || eh.e_shnum > (size - eh.e_shoff) / sizeof(Elf64_Shdr) ||
      eh.e_shstrndx >= eh.e_shnum)
    throw bad("section table out of bounds");
  const auto table = read_at(eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr));
  auto section = [&](size_t i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, table.data() + i * sizeof sh, sizeof sh);
    return sh;
  };
  const auto names_sh = section(eh.e_shstrndx);
  if (names_sh.sh_offset > size || names_sh.sh_size > size - names_sh.sh_offset) throw bad("section names out of bounds");
  const auto names = read_at(names_sh.sh_offset, names_sh.sh_size);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = section(i);
    if (sh.sh_name >= names.size()) continue;
    const char* name = names.data() + sh.sh_name;
    const size_t room = names.size() - sh.sh_name;  // a name cut off by the table's end never matches
    if (!std::memchr(name, '\0', room) || std::strcmp(name, ".lrbench_abi") != 0) continue;
    if (sh.sh_type != SHT_PROGBITS || sh.sh_offset > size || sh.sh_size > size - sh.sh_offset || sh.sh_size > 4096)
      throw bad("bad .lrbench_abi");
    const auto stamp = read_at(sh.sh_offset, sh.sh_size);
    return stamp.substr(0, stamp.find('\0'));
  }
  return "";
}

}  // namespace lrb
