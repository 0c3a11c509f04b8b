#include "threats/text/constraints.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lrb::text {

int64_t Constraints::max_modified(int64_t n) const {
  // n * rate in double: exact for the rates that matter (0.25 and other binary fractions); ceil of an
  // inexact product such as 10 * 0.3 = 3.0000000000000004 would overshoot by one, hence the small slack.
  const auto cap = static_cast<int64_t>(std::ceil(static_cast<double>(n) * max_rate - 1e-9));
  return std::max(cap, min_threshold);
}

std::vector<int64_t> Constraints::changed(const std::vector<int64_t>& text, const std::vector<int64_t>& original) {
  if (text.size() != original.size()) throw std::invalid_argument("a word swap changed the text's length");
  std::vector<int64_t> out;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] != original[i]) out.push_back(static_cast<int64_t>(i));
  return out;
}

std::vector<char> Constraints::modifiable(const std::vector<int64_t>& current, const std::vector<int64_t>& original,
                                          const TextVocab& vocab) const {
  const auto n = static_cast<int64_t>(original.size());
  std::vector<char> ok(n, 0);
  if (static_cast<int64_t>(changed(current, original).size()) >= max_modified(n)) return ok;
  for (int64_t i = 0; i < n; ++i) {
    if (current[i] != original[i]) continue;
    if (stopwords && original[i] >= 0 && original[i] < vocab.size() && stopwords->count(vocab.word(original[i])))
      continue;
    ok[i] = 1;
  }
  return ok;
}

}  // namespace lrb::text
