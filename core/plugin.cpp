#include "core/plugin.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>

#include "core/errors.h"
#include "core/fs.h"
#include "core/plugin_abi.h"
#include "core/registry.h"

namespace fs = std::filesystem;

namespace lrb {

namespace {

// Function-local statics: built-in registrations call plugin_load::current() during static initialisation,
// possibly before this file's globals would have been constructed.
std::string& loading() {
  static std::string name;
  return name;
}
std::vector<std::string>& clashes() {
  static std::vector<std::string> list;
  return list;
}
std::set<std::string>& loaded() {  // canonical paths
  static std::set<std::string> paths;
  return paths;
}

const char* kFix = "rebuild it against this lrbench's installed package (find_package(lrbench) + lrbench::plugin)";

ConfigError refuse(const std::string& path, const std::string& what) {
  return ConfigError(fmt::format("plugin {}", path), what);
}

// "undefined symbol: _ZN3lrb..." -> the same with the C++ name demangled, so the user sees which API is missing.
std::string demangle_dlerror(std::string msg) {
  std::smatch m;
  if (!std::regex_search(msg, m, std::regex("(_Z[A-Za-z0-9_]+)"))) return msg;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(m.str(1).c_str(), nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? msg.replace(m.position(1), m.length(1), name.get()) : msg;
}

}  // namespace

namespace plugin_load {
const std::string& current() { return loading(); }
void record_clash(std::string message) { clashes().push_back(std::move(message)); }
}  // namespace plugin_load

std::string plugin_abi() { return LRB_PLUGIN_ABI; }

// Reads only the ELF header, the section table, the section names and the stamp: a plugin may be large,
// and this runs at every start-up for every --plugin.
std::string read_plugin_abi(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw refuse(path, "cannot read the file (check the path; build the plugin first)");
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  auto bad = [&](const char* why) {
    return refuse(path, fmt::format("not a 64-bit ELF shared object ({}); give the plugin's .so file", why));
  };
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

void load_plugin(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw refuse(path, "no such file (give the path of the plugin's .so)");
  const auto canonical = fs::canonical(path).string();
  if (loaded().count(canonical)) throw refuse(path, "given twice (--plugin and LRBENCH_PLUGINS together?); keep one");
  const auto stamp = read_plugin_abi(path);
  if (stamp.empty()) throw refuse(path, fmt::format("no lrbench ABI stamp (section .lrbench_abi); {}", kFix));
  if (stamp != plugin_abi())
    throw refuse(path, fmt::format("built for '{}' but this lrbench is '{}'; {}", stamp, plugin_abi(), kFix));
  const auto name = fs::path(path).filename().string();
  loading() = name;
  clashes().clear();
  // RTLD_NOW: a missing symbol is refused here, not as a crash in the middle of a run.
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  loading().clear();
  if (!handle) {
    const char* err = dlerror();
    throw refuse(path, fmt::format("cannot be loaded: {}; {}", demangle_dlerror(err ? err : "unknown error"), kFix));
  }
  loaded().insert(canonical);
  if (!clashes().empty())
    throw refuse(path, fmt::format("{}; rename the plugin's key", clashes().front()));
}

void load_plugins(const std::vector<std::string>& cli, const std::string& env_list) {
  for (const auto& p : cli) load_plugin(p);
  for (const auto& p : split_path(env_list)) load_plugin(p);
}

}  // namespace lrb
