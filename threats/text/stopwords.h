// The words a text attack never modifies (StopwordModification).
#pragma once
#include <string>
#include <unordered_set>

namespace lrb::text {

// OpenAttack's English filter words (OpenAttack/attack_assist/filter_words/english.py, 268 words: the
// TextFooler list, also TextAttack's textfooler recipe's), which OpenAttack's PWWS and GA apply. Shipped as
// threats/text/stopwords_en.txt and compiled into the binary (threats/CMakeLists.txt generates
// lrb_stopwords_en.h from it), so no data file is read at run time. Lower-case, as the model's tokens.
// Deviation from TextAttack's pwws recipe: it uses NLTK's 179-word list (not shipped with Debian's WordNet).
const std::unordered_set<std::string>& default_stopwords();

}  // namespace lrb::text
