// The plugin ABI stamp: what must match between the lrbench binary and an out-of-tree plugin (.so) for the
// plugin's code to be safe to run inside it. Both sides compute it from this header when they compile, so a
// plugin built against another lrbench release, another LibTorch or another C++ ABI carries another stamp.
// The plugin side stores it in the ELF section ".lrbench_abi" (share/lrbench/plugin_stamp.cpp, added to every
// target that links lrbench::plugin); the loader (core/plugin.h) reads that section from the file and compares
// it before dlopen runs any of the plugin's code. Plain macros: no torch library code needed.
#pragma once
#include <cstddef>  // defines _GLIBCXX_USE_CXX11_ABI and __GXX_ABI_VERSION (libstdc++)

#include <torch/version.h>

#include "lrb_version.h"

#define LRB_ABI_STR_INNER(x) #x
#define LRB_ABI_STR(x) LRB_ABI_STR_INNER(x)

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define LRB_ABI_CXX11 LRB_ABI_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define LRB_ABI_CXX11 "none"
#endif
#if defined(__GXX_ABI_VERSION)
#define LRB_ABI_GXX LRB_ABI_STR(__GXX_ABI_VERSION)
#else
#define LRB_ABI_GXX "none"
#endif

// e.g. "lrbench 0.1.0; torch 1.13.0; gxx-abi 1017; cxx11-abi 1"
#define LRB_PLUGIN_ABI                                                                                 \
  "lrbench " LRB_VERSION "; torch " LRB_ABI_STR(TORCH_VERSION_MAJOR) "." LRB_ABI_STR(TORCH_VERSION_MINOR) "." \
      LRB_ABI_STR(TORCH_VERSION_PATCH) "; gxx-abi " LRB_ABI_GXX "; cxx11-abi " LRB_ABI_CXX11
