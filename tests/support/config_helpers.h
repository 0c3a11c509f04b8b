// Config tests: write a file (creating its folder) and capture a ConfigError's message.
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/errors.h"

namespace lrb::test {

inline void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// The ConfigError `f` throws, or "<no error>".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace lrb::test
