#include "core/selection_split_name.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace lrb {

std::string test_slice_name(int64_t first, int64_t end) { return fmt::format("test[{}:{}]", first, end); }

std::optional<int64_t> split_overlap(const std::string& split, int64_t scored) {
  if (split == "validation") return 0;
  if (split == "test") return scored;
  long long a = 0, b = 0;
  char end = 0;
  if (std::sscanf(split.c_str(), "test[:%lld%c", &b, &end) == 2 && end == ']') return std::min<int64_t>(scored, b);
  if (std::sscanf(split.c_str(), "test[%lld:%lld%c", &a, &b, &end) == 3 && end == ']')
    return std::max<int64_t>(0, std::min<int64_t>(scored, b) - a);
  return std::nullopt;
}

}  // namespace lrb
