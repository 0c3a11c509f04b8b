#include "datasets/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb::datasets {

namespace {
bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    size_t b = cur.find_first_not_of('\''), e = cur.find_last_not_of('\'');
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char raw : text) {
    char c = lower(raw);
    if (word_char(c)) cur += c;
    else if (!cur.empty()) flush();
  }
  if (!cur.empty()) flush();
  return out;
}

Vocab::Vocab() {
  add(kPadWord);
  add(kUnkWord);
}

void Vocab::add(const std::string& word) {
  index_.emplace(word, static_cast<int64_t>(words_.size()));
  words_.push_back(word);
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& docs, int64_t max_size, int64_t min_freq) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& d : docs)
    for (const auto& w : d) ++counts[w];
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (auto& [w, n] : counts)
    if (n >= min_freq && w != kPadWord && w != kUnkWord) ranked.emplace_back(w, n);
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  Vocab v;
  for (const auto& [w, n] : ranked) {
    if (max_size > 0 && v.size() >= max_size) break;
    v.add(w);
  }
  return v;
}

int64_t Vocab::id(const std::string& word) const {
  auto it = index_.find(word);
  return it == index_.end() ? kUnk : it->second;
}

const std::string& Vocab::word(int64_t id) const {
  if (id < 0 || id >= size()) throw std::out_of_range(fmt::format("Vocab::word: id {} (size {})", id, size()));
  return words_[id];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(id(t));
  return ids;
}

void Vocab::save(const std::string& path) const {
  std::string text;
  for (const auto& w : words_) text += w + "\n";
  write_text_atomic(path, text);
}

Vocab Vocab::load(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<std::string> words;
  for (std::string line; std::getline(in, line);) words.push_back(line);
  if (words.size() < 2 || words[0] != kPadWord || words[1] != kUnkWord)
    throw DataError(fmt::format("{}: not a vocabulary file (expected '<pad>' and '<unk>' on the first two lines)", path));
  Vocab v;
  for (size_t i = 2; i < words.size(); ++i) {
    if (v.contains(words[i]))
      throw DataError(fmt::format("{}:{}: duplicate word '{}' in vocabulary", path, i + 1, words[i]));
    v.add(words[i]);
  }
  return v;
}

}  // namespace lrb::datasets
