// Shared by the graph-model golden tests (gcn_test, gat_test): the generated headers' arrays as tensors.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "core/batch.h"
#include "core/graph.h"

namespace lrb::golden {

// A float tensor of `shape` from a generated float64 array.
inline torch::Tensor tensor(const double* v, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return torch::from_blob(const_cast<double*>(v), {n}, torch::kDouble).to(torch::kFloat).view(shape).clone();
}

// The generated graph: features x [n, f], undirected edges [e][2] (u < v), Â built by core/graph.h, labels 0.
inline Batch graph(const double* x, const int64_t* edges, int64_t n, int64_t f, int64_t e) {
  Batch b;
  b.modality = Modality::kGraph;
  b.x = tensor(x, {n, f});
  b.edge_index = torch::from_blob(const_cast<int64_t*>(edges), {e, 2}, torch::kLong).t().contiguous();
  b.adj = normalized_adjacency(b.edge_index, n);
  b.y = torch::zeros({n}, torch::kLong);
  return b;
}

}  // namespace lrb::golden
