// The genetic search of Alzantot et al. 2018 ("GA" of the paper's Table 2), structured as TextAttack's
// search_methods/alzantot_genetic_algorithm.py + genetic_algorithm.py, with OpenAttack's WordNet candidates
// (OpenAttack/attackers/genetic/__init__.py) instead of counter-fitted embeddings. docs/ATTACKS.md §2.2.
#pragma once
#include "threats/text/text_attack.h"

namespace lrb::text {

struct GeneticOptions {
  int64_t pop_size = 60;   // S = 60 (Alzantot's paper; TextAttack's alzantot recipe)
  int64_t max_iters = 20;  // generations (TextAttack's alzantot recipe; OpenAttack's default)
  double temp = 0.3;       // T of the parent distribution (TextAttack's alzantot recipe)
};

// Fitness = the goal's score 1 - p_y. Word-selection weight of a position = its number of candidates
// (0 where the constraints forbid a swap).
//  perturb(member): draw a position by weight, evaluate all its candidates as one batch, keep the best if it
//    raises the fitness; otherwise zero that position's weight and draw again, until every position with
//    weight was tried (TextAttack's _perturb).
//  initial population: pop_size perturbs of the original.
//  each generation: sort by fitness (stable); stop if the best succeeds; elite of 1; pop_size - 1 children,
//    each from two parents drawn with probability proportional to exp(fitness / temp), i.e. FITTER members
//    more likely (Alzantot's direction; TextAttack's exp(-score / temp) favours worse ones, docs/ATTACKS.md §2.2),
//    by uniform crossover (each word from either parent with probability 1/2) then perturb.
//  Children are scored as one batch, and the perturbs of all members run side by side: each round
//    evaluates every still-searching member's candidates as one batch.
//  After the last generation the population is sorted once more and its best is returned (TextAttack
//    returns the previous generation's elite).
// Deviations: WordNet candidates, no language-model filter and no embedding-distance constraint (OpenAttack's
// GA); a crossover child with more changed words than the cap keeps a uniformly drawn subset of cap of
// them (the others revert to the original) so the 25 % cap holds for every member. Randomness: ctx.rng only.
class AlzantotGeneticAlgorithm final : public SearchMethod {
 public:
  explicit AlzantotGeneticAlgorithm(GeneticOptions o) : o_(o) {}
  std::vector<int64_t> search(const std::vector<int64_t>& original, const GoalResult& initial,
                              SearchContext& ctx) override;

 private:
  struct Member {
    std::vector<int64_t> text;
    GoalResult result;
  };
  void perturb_all(std::vector<Member>& members, const std::vector<int64_t>& original,
                   const std::vector<double>& counts, SearchContext& ctx) const;
  std::vector<int64_t> crossover(const Member& a, const Member& b, const std::vector<int64_t>& original,
                                 SearchContext& ctx) const;
  GeneticOptions o_;
};

}  // namespace lrb::text
