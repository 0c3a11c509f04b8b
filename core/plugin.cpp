#include "core/plugin.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>

#include "core/elf_stamp.h"
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

std::string read_plugin_abi(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw refuse(path, "cannot read the file (check the path; build the plugin first)");
  return read_abi_stamp(in, path);
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
