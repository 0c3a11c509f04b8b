// Shared test helpers: data root, temp dirs, tensor comparisons.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace lrb::test {

// $LRBENCH_DATA, else <source>/../shared/data (where CI puts the project's data).
std::string data_root();
// Skips the current test (with the reason) when `relative` is missing under data_root().
#define LRB_REQUIRE_DATA(relative)                                                           \
  do {                                                                                       \
    if (!std::filesystem::exists(std::filesystem::path(::lrb::test::data_root()) / (relative))) \
      GTEST_SKIP() << "data file missing: " << (relative) << " under " << ::lrb::test::data_root(); \
  } while (0)

std::string source_dir();

// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `cmd` through the shell, returns exit status and captures stdout+stderr.
int run_command(const std::string& cmd, std::string* output = nullptr);

}  // namespace lrb::test
