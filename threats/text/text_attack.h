// Text attacks assembled TextAttack-style (textattack/attack.py): a transformation (WordSwapWordNet), pre-
// transformation constraints (stopwords, no repeated modification, the 25 % cap), a goal
// (UntargetedClassification on output probabilities) and a search method (greedy_wir.h, genetic.h).
// A recipe (threats/attacks/pwws.cpp, ga.cpp) only picks the parts. docs/ATTACKS.md §2.
//
// Inputs: text batches [B,T] int64 token ids + lengths [B] (the words beyond a row's length are <pad> and
// are never touched). Output: the same shape, each row's words swapped in place (a swap never changes a
// length). Black-box: only Victim::probs is used, so models trained by LR or ES are attacked the same way.
// An example the model already gets wrong is skipped (TextAttack's SkippedAttackResult): returned
// unchanged, counted as a model error, no record and no query beyond the evaluator's clean one. A recipe with
// attack_misclassified (the openattack preset) attacks it too, as OpenAttack's AttackEval does, so the records'
// success rate is OpenAttack's (successes over every example) and 1 - ASR its robustness figure.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "threats/text/constraints.h"
#include "threats/text/goal.h"
#include "threats/text/word_swap.h"
#include "threats/threat.h"

namespace lrb::text {

// Per-example random stream (splitmix64), seeded from the Attack's generator: the same on every platform and
// standard library, and each example's draws do not depend on how much earlier examples drew.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();  // [0,1), 53 bits
  // Index drawn with probability weights[i] / sum(weights); weights >= 0 with a positive sum.
  int64_t categorical(const std::vector<double>& weights);

 private:
  uint64_t state_;
};

// Everything a search method may use for one example.
struct SearchContext {
  UntargetedClassification& goal;
  WordSwapWordNet& transformation;
  const Constraints& constraints;
  Rng& rng;
  // Set by a search that gives up (OpenAttack's attacker returning None): the example is no success even when
  // the text it returns is misclassified (an article the model got wrong that the search could not work on).
  bool failed = false;
};

// TextAttack search_methods/search_method.py: from the original text (unpadded ids) and its result, the
// attacked text (same length). The search must respect ctx.constraints.modifiable at every swap.
class SearchMethod {
 public:
  virtual ~SearchMethod() = default;
  virtual std::vector<int64_t> search(const std::vector<int64_t>& original, const GoalResult& initial,
                                      SearchContext& ctx) = 0;
};

// One attacked example, as `lrbench eval --examples FILE.jsonl` writes it.
struct AttackRecord {
  int64_t index = 0;                               // row in perturb()'s batch (the evaluator adds the offset)
  int64_t label = 0;
  std::vector<std::string> original, adversarial;  // the model's words (vocabulary entries), same length
  std::vector<int64_t> changed;                    // positions where they differ, ascending
  int64_t queries = 0;                             // model queries for this example, the clean one included
  bool success = false;                            // the adversarial text is misclassified
  double p_original = 0, p_adversarial = 0;        // probability of `label` on each text
};

struct Recipe {
  std::string key, metric, params;
  std::string notes;  // the deviations from the original papers, one paragraph (for reports)
  Constraints constraints;
  std::unique_ptr<SearchMethod> search;
  bool pos_matched = false;           // WordSwapWordNet's candidates in the word's likeliest part of speech only
  bool attack_misclassified = false;  // attack examples the model already gets wrong (OpenAttack) or skip them
};

class TextAttack : public Attack {
 public:
  explicit TextAttack(Recipe recipe);
  std::string key() const override { return r_.key; }
  std::string metric() const override { return r_.metric; }
  std::string params() const override { return r_.params; }
  std::vector<Modality> modalities() const override { return {Modality::kText}; }
  bool needs_input_grad() const override { return false; }
  // ConfigError when the data has no vocabulary (not a text dataset).
  void check(const ThreatContext& ctx) const override;
  void bind(const ThreatContext& ctx) override;
  // Throws std::logic_error before bind(), std::invalid_argument for a batch that is not text.
  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override;
  const std::string& notes() const { return r_.notes; }
  const Constraints& constraints() const { return r_.constraints; }
  // The records of every example attacked (not skipped) since the last call, in row order.
  std::vector<AttackRecord> take_records();

 private:
  Recipe r_;
  std::shared_ptr<const TextVocab> vocab_;
  std::unique_ptr<WordSwapWordNet> transformation_;
  std::vector<AttackRecord> records_;
};

}  // namespace lrb::text
