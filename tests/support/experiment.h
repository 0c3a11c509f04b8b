// Builds experiment configs for tests from the committed demo config plus overrides.
#pragma once
#include <string>
#include <vector>

#include "core/config.h"
#include "tests/support/support.h"

namespace lrb::test {

inline NodePtr experiment(const std::string& file, const std::vector<std::string>& overrides) {
  auto path = source_dir() + "/experiments/" + file;
  auto conf = conf_dir_for(path);
  auto root = compose_file(path, conf);
  int pos = 1;
  for (const auto& o : overrides) apply_override(root, o, conf, pos++);
  return root;
}

}  // namespace lrb::test
