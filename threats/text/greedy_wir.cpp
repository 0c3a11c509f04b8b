#include "threats/text/greedy_wir.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lrb::text {

std::vector<int64_t> GreedyWordSwapWIR::search(const std::vector<int64_t>& original, const GoalResult& initial,
                                               SearchContext& ctx) {
  auto& swap = ctx.transformation;
  const auto& vocab = swap.vocab();
  const auto allowed = ctx.constraints.modifiable(original, original, vocab);
  std::vector<int64_t> positions;
  for (size_t i = 0; i < original.size(); ++i)
    if (allowed[i] && !swap.candidates(original[i]).empty()) positions.push_back(static_cast<int64_t>(i));
  if (positions.empty()) return original;

  std::vector<std::vector<int64_t>> leave_one;
  for (auto i : positions) {
    leave_one.push_back(original);
    leave_one.back()[i] = vocab.unk;
  }
  auto saliency = ctx.goal.evaluate(leave_one);
  double top = -1e300;
  for (const auto& r : saliency) top = std::max(top, r.score);
  std::vector<double> sigma;
  for (const auto& r : saliency) sigma.push_back(std::exp(r.score - top));
  const double z = std::accumulate(sigma.begin(), sigma.end(), 0.0);

  std::vector<std::vector<int64_t>> swapped;
  std::vector<size_t> owner;  // which entry of `positions` each swapped text belongs to
  for (size_t k = 0; k < positions.size(); ++k)
    for (auto c : swap.candidates(original[positions[k]])) {
      swapped.push_back(original);
      swapped.back()[positions[k]] = c;
      owner.push_back(k);
    }
  auto swap_results = ctx.goal.evaluate(swapped);
  std::vector<double> delta(positions.size(), -1e300);
  for (size_t j = 0; j < swapped.size(); ++j) delta[owner[j]] = std::max(delta[owner[j]], swap_results[j].score);
  std::vector<double> weight(positions.size());
  for (size_t k = 0; k < positions.size(); ++k) weight[k] = sigma[k] / z * delta[k];
  std::vector<size_t> order(positions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] > weight[b]; });

  auto current = original;
  auto current_result = initial;
  for (size_t k : order) {
    const int64_t i = positions[k];
    if (!ctx.constraints.modifiable(current, original, vocab)[i]) continue;
    std::vector<std::vector<int64_t>> texts;
    for (auto c : swap.candidates(original[i])) {
      texts.push_back(current);
      texts.back()[i] = c;
    }
    auto results = ctx.goal.evaluate(texts);
    size_t best = 0;
    for (size_t j = 1; j < results.size(); ++j)
      if (results[j].score > results[best].score) best = j;
    if (!(results[best].score > current_result.score)) continue;
    current = texts[best];
    current_result = results[best];
    if (current_result.success) break;
  }
  return current;
}

}  // namespace lrb::text
