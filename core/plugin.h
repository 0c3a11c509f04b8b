// Out-of-tree plugins: shared objects (.so) whose LRB_REGISTER lines add attacks, corruptions, models,
// trainers or datasets to the running lrbench (`lrbench --plugin path/libX.so VERB ...`, or LRBENCH_PLUGINS).
// Build one against the installed package: find_package(lrbench) + target_link_libraries(X PRIVATE
// lrbench::plugin); examples/plugin_attack is a complete one.
//
// Loading order, each step refusing with one line that names the plugin and the fix (ConfigError, exit 2):
//   1. the file exists, is an ELF shared object and was not given twice;
//   2. its ".lrbench_abi" section equals this binary's LRB_PLUGIN_ABI (lrbench version, LibTorch version,
//      C++ ABI) -- read from the file, so none of the plugin's code has run yet;
//   3. dlopen(RTLD_NOW): every symbol must resolve now (a missing one is named, demangled);
//   4. its registrations must not reuse a key already registered (built-in or by an earlier plugin).
#pragma once
#include <string>
#include <vector>

namespace lrb {

// This binary's stamp (core/plugin_abi.h), e.g. "lrbench 0.1.0; torch 1.13.0; gxx-abi 1017; cxx11-abi 1".
std::string plugin_abi();

// The stamp stored in the file's ".lrbench_abi" section; "" when the file is an ELF object without one.
// Throws ConfigError when the file cannot be read or is not a 64-bit little-endian ELF file.
std::string read_plugin_abi(const std::string& path);

// Loads one plugin (steps 1-4 above). Its handle stays open for the life of the process.
void load_plugin(const std::string& path);

// Plugins named on the command line, then those of `env_list` (colon-separated, e.g. $LRBENCH_PLUGINS;
// empty entries skipped), each loaded in that order.
void load_plugins(const std::vector<std::string>& cli, const std::string& env_list);

}  // namespace lrb
