#include "threats/text/stopwords.h"

#include <sstream>

#include "lrb_stopwords_en.h"

namespace lrb::text {

const std::unordered_set<std::string>& default_stopwords() {
  static const std::unordered_set<std::string> words = [] {
    std::unordered_set<std::string> out;
    std::istringstream in(kLrbStopwordsEn);
    for (std::string w; std::getline(in, w);)
      if (!w.empty()) out.insert(w);
    return out;
  }();
  return words;
}

}  // namespace lrb::text
