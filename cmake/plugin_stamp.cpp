// Compiled into every out-of-tree plugin by the installed CMake package (target lrbench::plugin): the ABI
// stamp lrbench reads from the file before loading it (core/plugin_abi.h). Nothing here runs.
#include "core/plugin_abi.h"

extern "C" __attribute__((used, section(".lrbench_abi"))) const char lrbench_plugin_abi[] = LRB_PLUGIN_ABI;
