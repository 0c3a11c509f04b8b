// WordNet 3.0 synonyms through Debian's libwordnet (wordnet-dev's wn.h over wordnet-base's database, the
// same WordNet 3.0 files NLTK reads; docs/ATTACKS.md §2.3). The synonym source of the text attacks (PWWS, GA).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace lrb::text {

// Lemmas of every synset of `word` over all four parts of speech (noun, verb, adjective, adverb), found the
// way the `wn` command finds them: the word itself plus every base form WordNet's own morphology gives
// (morphstr: the *.exc exception lists, then the detachment rules), so "dogs" reaches "dog" and "ran" reaches
// "run" (NLTK's synsets() runs morphy the same way). Lower-cased, sorted, without duplicates; collocations
// (lemmas with '_') dropped, adjective markers ("(a)", "(p)", "(ip)") stripped, and `word` itself dropped.
// Empty for a word WordNet does not know ("xyzzy", "the").
// Source: TextAttack transformations/word_swaps/word_swap_wordnet.py (wordnet.synsets + lemma_names, all POS).
// Thread-safe: libwordnet keeps static buffers, so calls are serialised by a lock. Throws lrb::Error (exit
// code 1) when the database cannot be opened (install wordnet-base; $WNHOME overrides where it is looked for).
std::vector<std::string> wordnet_synonyms(const std::string& word);

// WordNet's parts of speech (wn.h's NOUN, VERB, ADJ, ADV; adjectives include the satellites).
enum class WordPos { kNoun = 1, kVerb = 2, kAdj = 3, kAdv = 4 };
// The same, in one part of speech only (NLTK's wordnet.synsets(word, pos), which OpenAttack's WordNet substitute
// calls with the tagger's part of speech).
std::vector<std::string> wordnet_synonyms(const std::string& word, WordPos pos);
// The part of speech in which `word` has the most senses found in WordNet's sense-tagged texts (SemCor; the index
// files' tagsense_cnt, summed over the word and its base forms: `wn film -over` says "The noun film has 5 senses
// (first 4 from tagged texts)"), a count of senses, not of occurrences; a part of speech that knows the word with
// no tagged sense counts 0, ties go to noun, verb, adjective, adverb in that order; nullopt for a word WordNet
// does not know. A context-free stand-in for the
// sentence tagger OpenAttack runs (NLTK's averaged perceptron): "saw" is a verb here wherever it stands.
std::optional<WordPos> wordnet_likely_pos(const std::string& word);

}  // namespace lrb::text
