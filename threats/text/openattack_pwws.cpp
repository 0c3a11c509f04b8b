#include "threats/text/openattack_pwws.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lrb::text {

std::vector<int64_t> OpenAttackPWWS::search(const std::vector<int64_t>& original, const GoalResult& initial,
                                            SearchContext& ctx) {
  auto& swap = ctx.transformation;
  const auto& vocab = swap.vocab();
  const size_t n = original.size();
  if (n == 0) {
    ctx.failed = true;
    return original;
  }
  std::vector<std::vector<int64_t>> leave_one(n, original);
  for (size_t i = 0; i < n; ++i) leave_one[i][i] = vocab.unk;
  const auto without = ctx.goal.evaluate(leave_one);
  std::vector<double> saliency(n);
  for (size_t i = 0; i < n; ++i) saliency[i] = initial.p_label - without[i].p_label;
  const double top = *std::max_element(saliency.begin(), saliency.end());
  std::vector<double> sigma(n);
  for (size_t i = 0; i < n; ++i) sigma[i] = std::exp(saliency[i] - top);
  const double z = std::accumulate(sigma.begin(), sigma.end(), 0.0);

  std::vector<int64_t> best(original);  // w*_i: the word itself where there is no candidate
  std::vector<double> weight(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const auto& candidates = swap.candidates(original[i]);
    if (candidates.empty()) continue;
    std::vector<std::vector<int64_t>> texts(candidates.size(), original);
    for (size_t j = 0; j < candidates.size(); ++j) texts[j][i] = candidates[j];
    const auto results = ctx.goal.evaluate(texts);
    size_t lowest = 0;  // numpy's argmin: the first of equal values
    for (size_t j = 1; j < results.size(); ++j)
      if (results[j].p_label < results[lowest].p_label) lowest = j;
    best[i] = candidates[lowest];
    weight[i] = sigma[i] / z * (initial.p_label - results[lowest].p_label);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] > weight[b]; });

  auto current = original;
  for (size_t i : order) {
    if (!ctx.constraints.modifiable(current, original, vocab)[i]) continue;
    current[i] = best[i];
    if (ctx.goal.evaluate(current).success) return current;
  }
  ctx.failed = true;
  return current;
}

}  // namespace lrb::text
