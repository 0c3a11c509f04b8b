// pwws: Probability Weighted Word Saliency (Ren, Deng, He, Che, "Generating Natural Language Adversarial
// Examples through Probability Weighted Word Saliency", ACL 2019), the "PWWS" column of the paper's Table 2.
// Recipe: TextAttack attack_recipes/pwws_ren_2019.py (docs/ATTACKS.md §2.1), assembled from threats/text/:
//   transformation WordSwapWordNet (WordNet 3.0 via libwordnet, all POS, morphology, in-vocabulary only)
//   constraints    RepeatModification, StopwordModification (OpenAttack's 268 filter words),
//                  MaxModificationRate(max_rate, min_threshold=1) = the paper's 25 % cap
//   goal           UntargetedClassification on softmax probabilities (Victim::probs only)
//   search         GreedyWordSwapWIR("weighted-saliency"), saliency with the model's real <unk> id
// Deviations from Ren et al.: no named-entity swap (as TextAttack, OpenAttack); delta-P in TextAttack's
// 1 - p_y form; a swap is kept only if it improves the score (TextAttack). From TextAttack's recipe: the
// 25 % cap is added (the paper's), candidates outside the model's vocabulary are dropped, OpenAttack's
// stopword list replaces NLTK's, candidates are sorted (reproducible).
// `preset: openattack` runs OpenAttack's PWWS instead (the library whose attack names the paper uses): its search
// (openattack_pwws.h: no must-improve check), candidates in the word's likeliest part of speech (the one with most
// senses in WordNet's tagged texts, standing in for OpenAttack's NLTK tagger), every example attacked, misclassified ones included, so
// the attack success rate is OpenAttack's; metric "PWWS (OpenAttack)", a column of its own.
#include <fmt/format.h>

#include "core/registry.h"
#include "threats/text/greedy_wir.h"
#include "threats/text/openattack_pwws.h"
#include "threats/text/stopwords.h"

namespace lrb {

namespace {

const char* kPwwsNotes =
    "PWWS: TextAttack's pwws_ren_2019 recipe (greedy weighted-saliency search, saliency via the model's <unk>) with "
    "WordNet 3.0 synonyms over all parts of speech (libwordnet, WordNet morphology), dropping collocations and "
    "candidates outside the model's vocabulary; OpenAttack's English filter words as stopwords; at most "
    "max(ceil(0.25 n), 1) of n words changed, enforced during the search; no named-entity swap (as TextAttack and "
    "OpenAttack); already-misclassified examples are not attacked.";

const char* kPwwsOpenAttackNotes =
    "PWWS (OpenAttack): OpenAttack's PWWSAttacker search (saliency p_y(x) - p_y(x with <unk>) over every word; each "
    "word's best WordNet swap found once on the original text; swaps put in by weighted saliency without a "
    "must-improve check; stop at the first success, else no success) with WordNet 3.0 synonyms of the word's likeliest "
    "part of speech (the one with most senses in WordNet's tagged texts, a context-free stand-in for OpenAttack's NLTK tagger), "
    "single in-vocabulary words only; OpenAttack's English filter words; at most max(ceil(0.25 n), 1) of n words "
    "changed (the paper's cap; OpenAttack has none); every example attacked, misclassified ones included, so the "
    "success rate counts successes over all examples (OpenAttack's AttackEval) and 1 - ASR is its robustness figure.";

struct PwwsOptions {
  double max_rate = 0.25;
  std::string preset = "textattack";
  static PwwsOptions from(const Config& c) {
    PwwsOptions o;
    c.has("name");
    c.read("max_rate", o.max_rate, Range::between(0.0, 1.0));
    c.read_choice("preset", o.preset, {"textattack", "openattack"});
    return o;
  }
};

Attack::Ptr make_pwws(const Config& c) {
  const auto o = PwwsOptions::from(c);
  const bool oa = o.preset == "openattack";
  text::Recipe r;
  r.key = "pwws";
  r.metric = oa ? "PWWS (OpenAttack)" : "PWWS";
  r.params = fmt::format("{}max_rate={};min_threshold=1;stopwords=openattack-en;candidates=wordnet-3.0-in-vocab{}",
                         oa ? "preset=openattack;" : "", param_number(o.max_rate),
                         oa ? ";candidates-pos=likeliest;attacked=all" : "");
  r.notes = oa ? kPwwsOpenAttackNotes : kPwwsNotes;
  r.constraints.stopwords = &text::default_stopwords();
  r.constraints.max_rate = o.max_rate;
  if (oa)
    r.search = std::make_unique<text::OpenAttackPWWS>();
  else
    r.search = std::make_unique<text::GreedyWordSwapWIR>();
  r.pos_matched = r.attack_misclassified = oa;
  return std::make_unique<text::TextAttack>(std::move(r));
}

}  // namespace

LRB_REGISTER(Attack, "pwws", "PWWS word-swap attack: WordNet synonyms, greedy by weighted saliency (Ren 2019; TextAttack)",
             make_pwws);

}  // namespace lrb
