// GreedyWordSwapWIR("weighted-saliency"): PWWS's search (Ren et al. 2019), as TextAttack's
// search_methods/greedy_word_swap_wir.py runs it in attack_recipes/pwws_ren_2019.py (docs/ATTACKS.md §2.1).
#pragma once
#include "threats/text/text_attack.h"

namespace lrb::text {

// 1. Positions to order: those the constraints allow with at least one candidate.
// 2. Saliency S_i = score(text with word i -> the model's <unk> id), all such texts as one batch;
//    sigma = softmax(S) over those positions.
// 3. dP_i = max over candidates w of score(text with i -> w) (TextAttack's 1 - p_y form, not Ren's
//    p_y(x) - p_y(x_i^w): the constant shifts the sigma * dP ordering slightly, as in TextAttack); all
//    candidates of all positions as one batch (chunked by the goal).
// 4. Walk positions by sigma_i * dP_i, descending (ties: lower position first). At each, evaluate every
//    candidate on the current text as one batch and take the best (ties: first by word) only if it beats
//    the current score; stop at the first success. Positions the constraints no longer allow (the cap)
//    are passed over.
// Deterministic: no randomness is drawn.
class GreedyWordSwapWIR final : public SearchMethod {
 public:
  std::vector<int64_t> search(const std::vector<int64_t>& original, const GoalResult& initial,
                              SearchContext& ctx) override;
};

}  // namespace lrb::text
