#include "threats/text/genetic.h"

#include <algorithm>
#include <cmath>

namespace lrb::text {

void AlzantotGeneticAlgorithm::perturb_all(std::vector<Member>& members, const std::vector<int64_t>& original,
                                           const std::vector<double>& counts, SearchContext& ctx) const {
  auto& swap = ctx.transformation;
  const size_t n = original.size();
  std::vector<std::vector<double>> weight(members.size());
  std::vector<char> searching(members.size(), 0);
  for (size_t m = 0; m < members.size(); ++m) {
    auto allowed = ctx.constraints.modifiable(members[m].text, original, swap.vocab());
    weight[m].assign(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      if (allowed[i]) weight[m][i] = counts[i];
    searching[m] = std::any_of(weight[m].begin(), weight[m].end(), [](double w) { return w > 0; });
  }
  for (;;) {
    std::vector<std::vector<int64_t>> texts;
    std::vector<size_t> first(members.size()), count(members.size(), 0);
    std::vector<int64_t> picked(members.size(), -1);
    for (size_t m = 0; m < members.size(); ++m) {
      if (!searching[m]) continue;
      const int64_t i = ctx.rng.categorical(weight[m]);
      picked[m] = i;
      first[m] = texts.size();
      for (auto c : swap.candidates(original[i])) {
        texts.push_back(members[m].text);
        texts.back()[i] = c;
        ++count[m];
      }
    }
    if (texts.empty()) return;
    auto results = ctx.goal.evaluate(texts);
    for (size_t m = 0; m < members.size(); ++m) {
      if (!searching[m]) continue;
      size_t best = first[m];
      for (size_t j = first[m] + 1; j < first[m] + count[m]; ++j)
        if (results[j].score > results[best].score) best = j;
      if (count[m] > 0 && results[best].score > members[m].result.score) {
        members[m].text = texts[best];
        members[m].result = results[best];
        searching[m] = 0;
        continue;
      }
      weight[m][picked[m]] = 0;
      searching[m] = std::any_of(weight[m].begin(), weight[m].end(), [](double w) { return w > 0; });
    }
  }
}

std::vector<int64_t> AlzantotGeneticAlgorithm::crossover(const Member& a, const Member& b,
                                                         const std::vector<int64_t>& original,
                                                         SearchContext& ctx) const {
  std::vector<int64_t> child(original.size());
  for (size_t i = 0; i < child.size(); ++i) child[i] = ctx.rng.uniform() < 0.5 ? a.text[i] : b.text[i];
  auto changed = Constraints::changed(child, original);
  const auto cap = static_cast<size_t>(ctx.constraints.max_modified(static_cast<int64_t>(original.size())));
  if (changed.size() > cap) {
    for (size_t k = 0; k < cap; ++k)  // partial Fisher-Yates: the first `cap` are a uniform subset
      std::swap(changed[k], changed[k + ctx.rng.next() % (changed.size() - k)]);
    for (size_t k = cap; k < changed.size(); ++k) child[changed[k]] = original[changed[k]];
  }
  return child;
}

std::vector<int64_t> AlzantotGeneticAlgorithm::search(const std::vector<int64_t>& original, const GoalResult& initial,
                                                      SearchContext& ctx) {
  auto& swap = ctx.transformation;
  const auto allowed = ctx.constraints.modifiable(original, original, swap.vocab());
  std::vector<double> counts(original.size(), 0.0);
  bool any = false;
  for (size_t i = 0; i < original.size(); ++i) {
    if (allowed[i]) counts[i] = static_cast<double>(swap.candidates(original[i]).size());
    any = any || counts[i] > 0;
  }
  if (!any) {  // nothing to swap: a failed attack (OpenAttack returns None)
    ctx.failed = true;
    return original;
  }

  auto by_fitness = [](const Member& a, const Member& b) { return a.result.score > b.result.score; };
  std::vector<Member> pop(o_.pop_size, Member{original, initial});
  perturb_all(pop, original, counts, ctx);
  for (int64_t g = 0; g < o_.max_iters; ++g) {
    std::stable_sort(pop.begin(), pop.end(), by_fitness);
    if (pop[0].result.success) return pop[0].text;
    std::vector<double> select(pop.size());
    for (size_t k = 0; k < pop.size(); ++k)  // shifted by the best: exp() cannot overflow
      select[k] = std::exp((pop[k].result.score - pop[0].result.score) / o_.temp);
    std::vector<int64_t> parent1(pop.size() - 1), parent2(pop.size() - 1);
    for (auto& p : parent1) p = ctx.rng.categorical(select);
    for (auto& p : parent2) p = ctx.rng.categorical(select);
    std::vector<std::vector<int64_t>> texts;
    for (size_t k = 0; k + 1 < pop.size(); ++k) texts.push_back(crossover(pop[parent1[k]], pop[parent2[k]], original, ctx));
    auto results = ctx.goal.evaluate(texts);
    std::vector<Member> children;
    for (size_t k = 0; k < texts.size(); ++k) children.push_back(Member{texts[k], results[k]});
    perturb_all(children, original, counts, ctx);
    children.insert(children.begin(), pop[0]);
    pop = std::move(children);
  }
  std::stable_sort(pop.begin(), pop.end(), by_fitness);
  ctx.failed = !pop[0].result.success;
  return pop[0].text;
}

}  // namespace lrb::text
