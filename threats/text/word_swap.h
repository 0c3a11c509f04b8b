// WordSwapWordNet: the transformation of the text attacks (TextAttack
// transformations/word_swaps/word_swap_wordnet.py), over the model's own vocabulary.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "threats/threat.h"

namespace lrb::text {

// True when `w` is exactly one token of the model's tokenizer (datasets/tokenizer.h: lower-case [a-z0-9'],
// no apostrophe at either edge), i.e. swapping it in keeps the text's tokenisation.
bool single_token(const std::string& w);

class WordSwapWordNet {
 public:
  // pos_matched: synonyms in the word's likeliest part of speech only (wordnet_likely_pos; OpenAttack's WordNet
  // substitute takes the tagger's part of speech), instead of all four (TextAttack).
  explicit WordSwapWordNet(std::shared_ptr<const TextVocab> vocab, bool pos_matched = false);
  // Candidate ids that may replace token `id`: wordnet_synonyms(word) that are a single token and in the
  // vocabulary, minus <pad>, <unk> and the word itself, sorted by word (TextAttack's Python set order is not
  // reproducible). Empty for <pad>, <unk> and ids outside the vocabulary. Cached per id.
  // Deviation from TextAttack: candidates outside the vocabulary are dropped, not swapped in (they would reach
  // the model as <unk>, an UNK injection rather than a synonym swap; docs/ATTACKS.md §2.4 pitfall 1).
  const std::vector<int64_t>& candidates(int64_t id);
  const TextVocab& vocab() const { return *vocab_; }

 private:
  std::shared_ptr<const TextVocab> vocab_;
  bool pos_matched_ = false;
  std::unordered_map<int64_t, std::vector<int64_t>> cache_;
};

}  // namespace lrb::text
