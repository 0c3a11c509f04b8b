#include "tests/support/support.h"

#include <cstdio>
#include <cstdlib>
#include <random>

namespace lrb::test {

std::string source_dir() {
  if (const char* s = std::getenv("LRB_SOURCE_DIR")) return s;
  return LRB_TEST_SOURCE_DIR;
}

std::string data_root() {
  if (const char* s = std::getenv("LRBENCH_DATA"); s && *s) return s;
  return source_dir() + "/../shared/data";
}

TempDir::TempDir() {
  namespace fs = std::filesystem;
  std::random_device rd;  // only names a scratch directory; never feeds an experiment
  for (int i = 0; i < 100; ++i) {
    auto p = fs::temp_directory_path() / ("lrb_test_" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("TempDir: cannot create a temp directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int run_command(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::string out;
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace lrb::test
