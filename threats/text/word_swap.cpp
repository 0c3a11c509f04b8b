#include "threats/text/word_swap.h"

#include <algorithm>

#include "threats/text/wordnet.h"

namespace lrb::text {

bool single_token(const std::string& w) {
  if (w.empty() || w.front() == '\'' || w.back() == '\'') return false;
  return std::all_of(w.begin(), w.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; });
}

WordSwapWordNet::WordSwapWordNet(std::shared_ptr<const TextVocab> vocab, bool pos_matched)
    : vocab_(std::move(vocab)), pos_matched_(pos_matched) {}

const std::vector<int64_t>& WordSwapWordNet::candidates(int64_t id) {
  if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  std::vector<int64_t> out;
  if (id >= 0 && id < vocab_->size() && id != vocab_->pad && id != vocab_->unk) {
    // wordnet_synonyms is sorted by word, so `out` is too.
    const std::string& word = vocab_->word(id);
    std::vector<std::string> synonyms;
    if (!pos_matched_)
      synonyms = wordnet_synonyms(word);
    else if (const auto pos = wordnet_likely_pos(word))
      synonyms = wordnet_synonyms(word, *pos);
    for (const auto& w : synonyms) {
      if (!single_token(w)) continue;
      const int64_t c = vocab_->find(w);
      if (c >= 0 && c != id && c != vocab_->pad && c != vocab_->unk) out.push_back(c);
    }
  }
  return cache_.emplace(id, std::move(out)).first->second;
}

}  // namespace lrb::text
