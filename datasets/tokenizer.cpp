#include "datasets/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
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

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool letter(char c) { return upper(c) || (c >= 'a' && c <= 'z'); }

// The '.' at `dot` ends an abbreviation or an initial rather than a sentence.
bool abbreviation(const std::string& text, size_t dot) {
  static const char* const kTitles[] = {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "gov",
                                        "sen", "rep", "lt", "col", "sgt", "capt", "mt", "no", "vs"};
  size_t b = dot;
  while (b > 0 && (letter(text[b - 1]) || text[b - 1] == '.')) --b;
  std::string word;
  for (size_t i = b; i < dot; ++i) word += lower(text[i]);
  if (word.size() == 1 || word.find('.') != std::string::npos) return true;
  return std::find(std::begin(kTitles), std::end(kTitles), word) != std::end(kTitles);
}

}  // namespace

std::vector<int32_t> sentence_ids(const std::string& text, const std::vector<size_t>& forced_breaks) {
  std::vector<size_t> breaks;  // offsets of whitespace characters where a new sentence starts
  for (size_t f : forced_breaks)
    if (f < text.size() && space(text[f])) breaks.push_back(f);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < text.size() && (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']')) ++j;
    if (j >= text.size() || !space(text[j])) continue;
    size_t k = j;
    while (k < text.size() && space(text[k])) ++k;
    if (k >= text.size()) continue;
    const char next = text[k];
    if (!(upper(next) || next == '"' || next == '\'' || next == '(' || next == '[')) continue;
    if (c == '.' && abbreviation(text, i)) continue;
    breaks.push_back(j);
  }
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  std::vector<int32_t> out;
  int32_t sentence = 0;
  size_t begin = 0;
  for (size_t k = 0; k <= breaks.size(); ++k) {
    const size_t end = k < breaks.size() ? breaks[k] : text.size();
    const auto n = tokenize(text.substr(begin, end - begin)).size();
    if (n > 0) {
      out.insert(out.end(), n, sentence);
      ++sentence;
    }
    begin = end;
  }
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
