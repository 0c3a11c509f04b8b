// Suite tests: load a suite from YAML text (through a temporary file, as lrbench reads suites).
#pragma once
#include <fstream>
#include <string>

#include "experiments/suite.h"
#include "tests/support/support.h"

namespace lrb::test {

inline Suite suite_from(const std::string& yaml) {
  TempDir d;
  std::ofstream(d / "s.yaml") << yaml;
  return load_suite(d / "s.yaml", {});
}

}  // namespace lrb::test
