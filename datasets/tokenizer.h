// Word tokenizer and vocabulary for the text datasets (AG News); reusable by text attacks and corruptions.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lrb::datasets {

// Lower-cases ASCII, splits on every character that is not [a-z0-9'] (bytes >= 0x80 included), keeps
// apostrophes inside words ("don't", "it's") and strips them at word edges, so quote marks ('word') do not
// make separate vocabulary entries. "U.S. stocks' rally" -> u, s, stocks, rally.
std::vector<std::string> tokenize(const std::string& text);

// Sentence number (0, 1, ...) of every token of tokenize(text), so word-level threats can work per sentence
// although the tokens drop punctuation. A sentence ends at a forced break (a character offset into `text`,
// e.g. the AG News title/description seam) or after '.', '!' or '?' (and any closing quotes or brackets)
// followed by whitespace and then an upper-case letter or an opening quote/bracket, unless the word before
// the '.' is a single letter or contains a '.' (initials, "U.S.") or is a title abbreviation (Mr, Mrs, Ms,
// Dr, Prof, St, Jr, Sr, Gen, Gov, Sen, Rep, Lt, Col, Sgt, Capt, Mt, No, vs). Breaks are only ever placed
// on whitespace, a token boundary, so the tokens of the pieces are exactly tokenize(text)'s; a forced break
// that is not on whitespace is ignored. A rule-based splitter (no Punkt model): it still splits after an
// abbreviation outside that list that precedes a capitalised word ("Corp. Microsoft").
std::vector<int32_t> sentence_ids(const std::string& text, const std::vector<size_t>& forced_breaks = {});

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1;
  static constexpr const char* kPadWord = "<pad>";
  static constexpr const char* kUnkWord = "<unk>";

  Vocab();  // only <pad> and <unk>
  // Words with count >= min_freq, most frequent first (ties: alphabetical, so the ids are reproducible),
  // truncated so that size() <= max_size (the two specials included); max_size <= 0 means no limit.
  static Vocab build(const std::vector<std::vector<std::string>>& docs, int64_t max_size, int64_t min_freq = 1);
  int64_t id(const std::string& word) const;  // kUnk when absent
  const std::string& word(int64_t id) const;  // throws std::out_of_range
  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  bool contains(const std::string& word) const { return index_.count(word) > 0; }
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  // One word per line, id order (atomic write); load() checks the two specials lead.
  void save(const std::string& path) const;
  static Vocab load(const std::string& path);

 private:
  void add(const std::string& word);
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace lrb::datasets
