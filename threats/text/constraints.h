// Pre-transformation constraints of the text attacks (TextAttack constraints/pre_transformation/): which
// positions of the current text may still be swapped.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "threats/threat.h"

namespace lrb::text {

struct Constraints {
  // StopwordModification (stopword_modification.py): these words are never swapped (lower-case compare).
  const std::unordered_set<std::string>* stopwords = nullptr;  // nullptr: none
  // MaxModificationRate(max_rate, min_threshold) (max_modification_rate.py): the paper's "at most 25 % of the
  // words substituted", enforced during the search.
  double max_rate = 0.25;
  int64_t min_threshold = 1;

  // How many of an n-word text's positions may differ from the original: max(ceil(n * max_rate),
  // min_threshold), TextAttack's rounding (n = 10 -> 3, n = 4 -> 1, n = 5 -> 2, n = 1 -> 1).
  int64_t max_modified(int64_t n) const;
  // Per position of `current` (same length as `original`), whether it may be swapped now: not a stopword
  // (judged on the original word), not already changed from the original (RepeatModification,
  // repeat_modification.py), and nothing at all once max_modified(n) positions differ from the original.
  std::vector<char> modifiable(const std::vector<int64_t>& current, const std::vector<int64_t>& original,
                               const TextVocab& vocab) const;
  // Positions where `text` differs from `original`, ascending.
  static std::vector<int64_t> changed(const std::vector<int64_t>& text, const std::vector<int64_t>& original);
};

}  // namespace lrb::text
