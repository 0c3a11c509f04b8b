// PWWS's search as OpenAttack runs it (OpenAttack/attackers/pwws/__init__.py, the library the paper names its
// text attacks after), for the `preset: openattack` of `pwws` (docs/ATTACKS.md §2.1). Where it differs from
// TextAttack's GreedyWordSwapWIR (greedy_wir.h), which is the stronger search:
//   - saliency over every word, S_i = p_y(x) - p_y(x with word i -> <unk>) (Ren et al.'s form), sigma = softmax(S);
//   - each word's best swap w*_i and its gain dP_i = p_y(x) - p_y(x with i -> w*_i) are found once, on the
//     original text (a word without candidates keeps itself, gain 0);
//   - positions walked by sigma_i * dP_i, descending (ties: lower position first); at each, w*_i is put in
//     whether or not it lowers p_y (no "must improve" check) and the attack stops at the first success;
//   - a walk that ends without success gives up (SearchContext::failed: OpenAttack returns None).
// Positions the constraints do not allow (filter words, the 25 % cap) are passed over. Deterministic.
#pragma once
#include "threats/text/text_attack.h"

namespace lrb::text {

class OpenAttackPWWS final : public SearchMethod {
 public:
  std::vector<int64_t> search(const std::vector<int64_t>& original, const GoalResult& initial,
                              SearchContext& ctx) override;
};

}  // namespace lrb::text
