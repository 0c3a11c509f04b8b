#include "core/plugin.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <set>

#include "core/errors.h"
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

std::string read_plugin_abi(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw refuse(path, "cannot read the file (check the path; build the plugin first)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto size = bytes.size();
  auto bad = [&](const char* why) {
    return refuse(path, fmt::format("not a 64-bit ELF shared object ({}); give the plugin's .so file", why));
  };
  Elf64_Ehdr eh;
  if (size < sizeof eh || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) throw bad("no ELF header");
  std::memcpy(&eh, bytes.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) throw bad("not ELF64 little-endian");
  if (eh.e_type != ET_DYN) throw bad("not a shared object");
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size || eh.e_shnum > (size - eh.e_shoff) / sizeof(Elf64_Shdr) ||
      eh.e_shstrndx >= eh.e_shnum)
    throw bad("section table out of bounds");
  auto section = [&](size_t i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    return sh;
  };
  const auto names = section(eh.e_shstrndx);
  if (names.sh_offset > size || names.sh_size > size - names.sh_offset) throw bad("section names out of bounds");
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = section(i);
    if (sh.sh_name >= names.sh_size) continue;
    const char* name = bytes.data() + names.sh_offset + sh.sh_name;
    const size_t room = names.sh_size - sh.sh_name;  // a name cut off by the table's end never matches
    if (!std::memchr(name, '\0', room) || std::strcmp(name, ".lrbench_abi") != 0) continue;
    if (sh.sh_type != SHT_PROGBITS || sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) throw bad("bad .lrbench_abi");
    std::string stamp(bytes.data() + sh.sh_offset, sh.sh_size);
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
  size_t start = 0;
  while (start <= env_list.size()) {
    auto end = env_list.find(':', start);
    if (end == std::string::npos) end = env_list.size();
    if (end > start) load_plugin(env_list.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace lrb
