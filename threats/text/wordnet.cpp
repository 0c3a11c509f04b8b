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

std::vector<std::string> wordnet_synonyms(const std::string& word) {
  // WordNet words are short; libwordnet copies into fixed buffers (WORDBUF 256), so longer input is unknown.
  if (word.empty() || word.size() > 200) return {};
  std::lock_guard<std::mutex> lock(wordnet_mutex());
  open_database();
  std::set<std::string> out;
  for (int pos : {NOUN, VERB, ADJ, ADV}) {
    // As wn.c's do_search: the word, then each base form morphstr() yields (it never repeats the word).
    std::vector<std::string> forms = {word};
    std::vector<char> buf(word.begin(), word.end());
    buf.push_back('\0');
    for (char* base = morphstr(buf.data(), pos); base; base = morphstr(nullptr, pos)) forms.emplace_back(base);
    for (const auto& form : forms) {
      std::vector<char> f(form.begin(), form.end());
      f.push_back('\0');
      // getindex() tries the spelling variants the search code tries (hyphens, underscores, periods).
      char* query = f.data();
      while (IndexPtr idx = getindex(query, pos)) {
        query = nullptr;
        for (int o = 0; o < idx->off_cnt; ++o) {
          SynsetPtr ss = read_synset(pos, static_cast<long>(idx->offset[o]), idx->wd);
          if (!ss) continue;
          for (int w = 0; w < ss->wcount; ++w) out.insert(lower(strip_marker(ss->words[w])));
          free_synset(ss);
        }
        free_index(idx);
      }
    }
  }
  const std::string self = lower(word);
  std::vector<std::string> result;
  for (const auto& w : out)
    if (w != self && w.find('_') == std::string::npos && !w.empty()) result.push_back(w);
  return result;
}

}  // namespace lrb::text
