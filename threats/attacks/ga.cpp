// ga: the genetic word-swap attack of Alzantot, Sharma, Elgohary, Ho, Srivastava, Chang, "Generating Natural
// Language Adversarial Examples", EMNLP 2018, the "GA" column of the paper's Table 2 (OpenAttack's name).
// Assembled from threats/text/ like TextAttack's attack_recipes/genetic_algorithm_alzantot_2018.py, with
// OpenAttack's candidates (OpenAttack/attackers/genetic/__init__.py: WordNet, filter words); docs/ATTACKS.md §2.2:
//   transformation WordSwapWordNet (WordNet 3.0 via libwordnet, all POS, morphology, in-vocabulary only)
//   constraints    RepeatModification, StopwordModification (OpenAttack's 268 filter words),
//                  MaxModificationRate(max_rate, min_threshold=1) = the paper's 25 % cap
//   goal           UntargetedClassification on softmax probabilities (Victim::probs only)
//   search         AlzantotGeneticAlgorithm(pop_size 60, max_iters 20, temp 0.3), parents ∝ exp(fitness/T)
// Deviations from Alzantot et al.: WordNet synonyms instead of counter-fitted GloVe neighbours (N = 8,
// distance < 0.5) and no Google 1B language-model filter (K = 4), as OpenAttack's GA (neither resource is
// available offline); Alzantot's 20 % cap is the paper's 25 %; parents favour fitter members (Alzantot,
// OpenAttack) at TextAttack's temperature 0.3, not TextAttack's reversed sign; crossover children are cut
// back to the cap. The random stream is seeded per example from the Attack's generator.
// `preset: openattack`: OpenAttack's GeneticAttacker settings (population 20, 20 generations) and candidates in the
// word's likeliest part of speech, every example attacked (misclassified ones too) so the success rate is
// OpenAttack's; the search stays the one above (not OpenAttack's code); metric "GA (OpenAttack)".
#include <fmt/format.h>

#include "core/registry.h"
#include "threats/text/genetic.h"
#include "threats/text/stopwords.h"

namespace lrb {

namespace {

const char* kGaNotes =
    "GA: Alzantot et al.'s genetic search (TextAttack's alzantot structure: population 60, 20 generations, elite 1, "
    "uniform crossover, mutation = best improving swap at a position drawn by candidate count) with OpenAttack's "
    "WordNet candidates instead of counter-fitted embeddings and without the language-model filter; parents drawn "
    "with probability proportional to exp(fitness / 0.3), fitness = 1 - p_true (fitter members favoured); at most "
    "max(ceil(0.25 n), 1) of n words changed, crossover children cut back to that cap; OpenAttack's English filter "
    "words as stopwords; candidates outside the model's vocabulary dropped; already-misclassified examples are not "
    "attacked.";

const char* kGaOpenAttackNotes =
    "GA (OpenAttack): the GA search above at OpenAttack's GeneticAttacker settings (population 20, 20 generations, "
    "unless pop_size or max_iters say otherwise: threat_params has the values used) "
    "with WordNet 3.0 synonyms of the word's likeliest part of speech (the one with most senses in WordNet's tagged texts, a "
    "context-free stand-in for OpenAttack's NLTK tagger); OpenAttack's own mutation and crossover code is not "
    "reproduced; every example attacked, misclassified ones included, so the success rate counts successes over all "
    "examples (OpenAttack's AttackEval) and 1 - ASR is its robustness figure.";

struct GaOptions {
  double max_rate = 0.25;
  std::string preset = "textattack";
  text::GeneticOptions search;
  static GaOptions from(const Config& c) {
    GaOptions o;
    c.has("name");
    c.read("max_rate", o.max_rate, Range::between(0.0, 1.0));
    c.read_choice("preset", o.preset, {"textattack", "openattack"});
    if (o.preset == "openattack") o.search.pop_size = 20;  // OpenAttack's GeneticAttacker default
    c.read("pop_size", o.search.pop_size, Range::at_least(2));
    c.read("max_iters", o.search.max_iters, Range::at_least(0));
    c.read("temp", o.search.temp, Range::positive());
    return o;
  }
};

Attack::Ptr make_ga(const Config& c) {
  const auto o = GaOptions::from(c);
  const bool oa = o.preset == "openattack";
  text::Recipe r;
  r.key = "ga";
  r.metric = oa ? "GA (OpenAttack)" : "GA";
  r.pos_matched = r.attack_misclassified = oa;
  r.params = fmt::format("{}max_rate={};pop_size={};max_iters={};temp={};min_threshold=1;stopwords=openattack-en;"
                         "candidates=wordnet-3.0-in-vocab{}",
                         oa ? "preset=openattack;" : "", param_number(o.max_rate), o.search.pop_size, o.search.max_iters,
                         param_number(o.search.temp), oa ? ";candidates-pos=likeliest;attacked=all" : "");
  r.notes = oa ? kGaOpenAttackNotes : kGaNotes;
  r.constraints.stopwords = &text::default_stopwords();
  r.constraints.max_rate = o.max_rate;
  r.search = std::make_unique<text::AlzantotGeneticAlgorithm>(o.search);
  return std::make_unique<text::TextAttack>(std::move(r));
}

}  // namespace

LRB_REGISTER(Attack, "ga", "genetic word-swap attack with WordNet candidates (Alzantot 2018; OpenAttack GA)", make_ga);

}  // namespace lrb
