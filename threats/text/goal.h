// UntargetedClassification: the goal of the text attacks (TextAttack
// goal_functions/classification/untargeted_classification.py), scored on output probabilities only.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "core/batch.h"
#include "threats/victim.h"

namespace lrb::text {

struct GoalResult {
  double score = 0;      // 1 - p_y(text), in [0,1]: what every search maximises
  bool success = false;  // argmax p(text) != y
  double p_label = 0;    // p_y(text)
};

class UntargetedClassification {
 public:
  // `width`: the padded length T of the model's input rows; `pad`: the model's <pad> id; `device`: where the
  // model lives. Texts are unpadded id lists (each at most `width` long).
  UntargetedClassification(Victim& victim, int64_t label, int64_t width, int64_t pad, torch::Device device);
  // Scores many texts; those not seen before go through Victim::probs as batches of up to kMaxBatch rows,
  // one query each. Results are cached per text (TextAttack's goal-function cache), so a text costs one
  // query per example however often a search revisits it.
  std::vector<GoalResult> evaluate(const std::vector<std::vector<int64_t>>& texts);
  GoalResult evaluate(const std::vector<int64_t>& text) { return evaluate(std::vector<std::vector<int64_t>>{text})[0]; }
  // Pre-fills the cache (the evaluator's clean query already scored the original).
  void remember(const std::vector<int64_t>& text, const GoalResult& r) { cache_[text] = r; }
  // The result from class probabilities `p` (one row, [K]).
  static GoalResult from_probs(const torch::Tensor& p, int64_t label);
  static constexpr int64_t kMaxBatch = 512;

 private:
  Victim& victim_;
  int64_t label_, width_, pad_;
  torch::Device device_;
  std::map<std::vector<int64_t>, GoalResult> cache_;
};

}  // namespace lrb::text
