// Graph helpers shared by the Cora loader, the graph models and the graph attacks (which may not include
// datasets/): the GCN propagation matrix, rebuilt by an attack after every edit of the edge list.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace lrb {

// Â = D^-1/2 (A+I) D^-1/2 (Kipf & Welling, ICLR 2017, Eq. 2; their preprocess_adj) as a coalesced sparse
// COO float tensor [n, n], from undirected edges `edge_index` int64 [2, E] (each edge once, either
// orientation; self-loops are added here, duplicates count once). Stays on edge_index's device.
torch::Tensor normalized_adjacency(const torch::Tensor& edge_index, int64_t n);

}  // namespace lrb
