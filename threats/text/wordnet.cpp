#include "threats/text/wordnet.h"

#include <wn.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "core/errors.h"

namespace lrb::text {

namespace {

std::mutex& wordnet_mutex() {
  static std::mutex m;
  return m;
}

void open_database() {
  static bool open = false;
  if (open) return;
  if (wninit() != 0)
    throw Error("WordNet: cannot open its database (looked in $WNHOME or /usr/share/wordnet); install the "
                "Debian package wordnet-base (scripts/install-deps.sh does)", 1);
  open = true;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Adjectives in data.adj carry their syntactic marker glued on: "big(a)", "braggart(a)", "big(p)".
std::string strip_marker(std::string w) {
  if (auto p = w.find('('); p != std::string::npos && !w.empty() && w.back() == ')') w.erase(p);
  return w;
}

}  // namespace

namespace {

// The index entries of `word` and of every base form WordNet's morphology gives, in one part of speech (as wn.c's
// do_search: the word, then each base form morphstr() yields; getindex() tries the spelling variants the search
// code tries: hyphens, underscores, periods). Calls `visit` with each; the caller holds the lock.
template <class Visit>
void for_each_index(const std::string& word, int pos, Visit&& visit) {
  std::vector<std::string> forms = {word};
  std::vector<char> buf(word.begin(), word.end());
  buf.push_back('\0');
  for (char* base = morphstr(buf.data(), pos); base; base = morphstr(nullptr, pos)) forms.emplace_back(base);
  for (const auto& form : forms) {
    std::vector<char> f(form.begin(), form.end());
    f.push_back('\0');
    char* query = f.data();
    while (IndexPtr idx = getindex(query, pos)) {
      query = nullptr;
      visit(idx);
      free_index(idx);
    }
  }
}

void collect_synonyms(const std::string& word, int pos, std::set<std::string>& out) {
  for_each_index(word, pos, [&](IndexPtr idx) {
    for (int o = 0; o < idx->off_cnt; ++o) {
      SynsetPtr ss = read_synset(pos, static_cast<long>(idx->offset[o]), idx->wd);
      if (!ss) continue;
      for (int w = 0; w < ss->wcount; ++w) out.insert(lower(strip_marker(ss->words[w])));
      free_synset(ss);
    }
  });
}

std::vector<std::string> without_self(const std::set<std::string>& out, const std::string& word) {
  const std::string self = lower(word);
  std::vector<std::string> result;
  for (const auto& w : out)
    if (w != self && w.find('_') == std::string::npos && !w.empty()) result.push_back(w);
  return result;
}

// WordNet words are short; libwordnet copies into fixed buffers (WORDBUF 256), so longer input is unknown.
bool askable(const std::string& word) { return !word.empty() && word.size() <= 200; }

}  // namespace

std::vector<std::string> wordnet_synonyms(const std::string& word) {
  if (!askable(word)) return {};
  std::lock_guard<std::mutex> lock(wordnet_mutex());
  open_database();
  std::set<std::string> out;
  for (int pos : {NOUN, VERB, ADJ, ADV}) collect_synonyms(word, pos, out);
  return without_self(out, word);
}

std::vector<std::string> wordnet_synonyms(const std::string& word, WordPos pos) {
  if (!askable(word)) return {};
  std::lock_guard<std::mutex> lock(wordnet_mutex());
  open_database();
  std::set<std::string> out;
  collect_synonyms(word, static_cast<int>(pos), out);
  return without_self(out, word);
}

std::optional<WordPos> wordnet_likely_pos(const std::string& word) {
  if (!askable(word)) return std::nullopt;
  std::lock_guard<std::mutex> lock(wordnet_mutex());
  open_database();
  std::optional<WordPos> best;
  int best_count = -1;
  for (int pos : {NOUN, VERB, ADJ, ADV}) {
    int tagged = -1;  // -1: WordNet does not know the word in this part of speech
    for_each_index(word, pos, [&](IndexPtr idx) { tagged = std::max(tagged, 0) + idx->tagged_cnt; });
    if (tagged > best_count) best_count = tagged, best = static_cast<WordPos>(pos);
  }
  return best;
}

}  // namespace lrb::text
