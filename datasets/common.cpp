#include <torch/torch.h>

#include <cstdlib>

#include "datasets/dataset.h"

namespace lrb {

std::string resolve_data_root(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("LRBENCH_DATA"); env && *env) return env;
  return "data";
}

std::vector<Batch> make_batches(const Batch& split, int64_t batch_size, at::Generator* gen) {
  if (split.modality == Modality::kGraph) return {split};
  const int64_t n = split.x.size(0);
  torch::Tensor order = gen ? torch::randperm(n, *gen, torch::kLong) : torch::arange(n, torch::kLong);
  std::vector<Batch> out;
  out.reserve((n + batch_size - 1) / batch_size);
  for (int64_t s = 0; s < n; s += batch_size) out.push_back(split.rows(order.slice(0, s, std::min(n, s + batch_size))));
  return out;
}

}  // namespace lrb
