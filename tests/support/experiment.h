// Builds experiment configs for tests from the committed demo config plus overrides.
#pragma once
#include <string>
#include <vector>

#include "core/compose.h"
#include "tests/support/support.h"

namespace lrb::test {

inline NodePtr experiment(const std::string& file, const std::vector<std::string>& overrides) {
  auto path = source_dir() + "/experiments/" + file;
  return compose(path, overrides);
}

}  // namespace lrb::test
