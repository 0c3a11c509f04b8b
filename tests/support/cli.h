// Runs the lrbench binary for CLI tests (targets define LRBENCH_BIN) and keeps its "lrbench: error:" lines.
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/support.h"

namespace lrb::test {

struct CliResult {
  int code;
  std::string out;
  std::vector<std::string> error_lines;
};

inline CliResult lrbench(const std::string& args, const std::string& env = "") {
  CliResult r;
  r.code = run_command(env + " " + LRBENCH_BIN + " " + args, &r.out);
  std::stringstream ss(r.out);
  for (std::string line; std::getline(ss, line);)
    if (line.rfind("lrbench: error:", 0) == 0) r.error_lines.push_back(line);
  return r;
}

}  // namespace lrb::test
