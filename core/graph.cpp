#include "core/graph.h"

#include <torch/torch.h>

namespace lrb {

torch::Tensor normalized_adjacency(const torch::Tensor& edge_index, int64_t n) {
  auto ei = edge_index.to(torch::kLong);
  auto loops = torch::arange(n, ei.options()).unsqueeze(0).expand({2, n});
  auto idx = torch::cat({ei, ei.flip({0}), loops}, 1);
  auto ones = torch::ones({idx.size(1)}, torch::TensorOptions().dtype(torch::kFloat).device(ei.device()));
  // Coalescing first sums duplicate edges into weights > 1; binarise so A stays a 0/1 matrix.
  auto a = torch::sparse_coo_tensor(idx, ones, {n, n}).coalesce();
  idx = a.indices();
  auto vals = torch::ones_like(a.values());
  auto deg = torch::zeros({n}, vals.options()).index_add_(0, idx[0], vals);
  auto inv_sqrt = deg.rsqrt();
  vals = inv_sqrt.index_select(0, idx[0]) * inv_sqrt.index_select(0, idx[1]);
  return torch::sparse_coo_tensor(idx, vals, {n, n}).coalesce();
}

}  // namespace lrb
