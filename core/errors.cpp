#include "core/errors.h"

#include <algorithm>
#include <numeric>

namespace lrb {

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& key, const std::vector<std::string>& known) {
  const std::string* best = nullptr;
  int best_d = 1 << 30;
  for (const auto& k : known) {
    int d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = &k;
  }
  // Allow about one typo per three characters, and always at least two.
  int limit = std::max<int>(2, static_cast<int>(key.size()) / 3);
  if (best && best_d <= limit) return "; did you mean '" + *best + "'?";
  return "";
}

}  // namespace lrb
