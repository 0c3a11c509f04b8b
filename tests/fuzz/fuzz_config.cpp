// libFuzzer harness: the YAML config reader with composition and overrides, then strict decoding. The
// input is an experiment file, optionally followed by a line "%%" and one key=value override per line.
// It is composed against the built-in experiments/conf (defaults: lists, group choices), printed back,
// hashed, and decoded as an experiment spec. Only lrb::Error (ConfigError) may leave; anything else
// (a YAML exception, std::out_of_range, a crash) is a finding.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/compose.h"
#include "core/config.h"
#include "core/errors.h"
#include "experiments/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A private folder: the file's own folder is on the config search path, and so is $LRBENCH_CONFIG_PATH.
  static const std::string file = [] {
    unsetenv("LRBENCH_CONFIG_PATH");
    char dir[] = "/tmp/lrbench_fuzz_config_XXXXXX";
    if (!mkdtemp(dir)) __builtin_trap();
    return std::string(dir) + "/experiment.yaml";
  }();
  std::string text(reinterpret_cast<const char*>(data), size), yaml = text;
  std::vector<std::string> overrides;
  if (auto cut = text.find("\n%%\n"); cut != std::string::npos) {
    yaml = text.substr(0, cut + 1);
    std::string rest = text.substr(cut + 4);
    for (size_t a = 0, b; a < rest.size() && overrides.size() < 16; a = b + 1) {
      b = rest.find('\n', a);
      if (b == std::string::npos) b = rest.size();
      if (b > a) overrides.push_back(rest.substr(a, b - a));
    }
  }
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << yaml;
  }
  try {
    auto root = lrb::compose(file, overrides, LRB_FUZZ_CONF);
    (void)lrb::to_yaml(root);
    (void)lrb::spec_hash(root);
    (void)lrb::decode_spec(root);
  } catch (const lrb::Error&) {
  }
  try {
    (void)lrb::to_yaml(lrb::parse_yaml_string(yaml, "fuzz"));
  } catch (const lrb::Error&) {
  }
  return 0;
}
