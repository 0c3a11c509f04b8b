// The unit of data every model, trainer, attack and corruption exchanges.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lrb {

enum class Modality { kImage, kText, kGraph, kSpike };
const char* modality_name(Modality m);

// What a model needs to know about its input.
struct InputSpec {
  std::vector<int64_t> shape;          // per example: {C,H,W} images, {T} text, {F} graph features
  std::vector<double> mean, std;       // per-channel normalisation applied inside the model (images)
  int64_t vocab_size = 0;              // text
  int64_t pad_index = 0;               // text
};

struct Batch {
  Modality modality = Modality::kImage;
  torch::Tensor x;           // image [B,C,H,W] in [0,1]; text [B,T] int64 ids; graph [N,F] node features
  torch::Tensor y;           // [B] int64 labels (graph: one per node)
  torch::Tensor lengths;     // text: [B] int64 true lengths (tokens beyond are <pad>)
  torch::Tensor adj;         // graph: normalised D^-1/2 (A+I) D^-1/2, sparse [N,N]
  torch::Tensor edge_index;  // graph: [2,E] int64 undirected edges, u < v (what graph attacks edit)
  torch::Tensor mask;        // graph: [N] bool, the nodes whose loss and accuracy count

  // Number of examples that count (masked nodes for graphs).
  int64_t size() const;
  // Labels of the examples that count; and the matching rows of a [N,K] logit tensor.
  torch::Tensor targets() const;
  torch::Tensor select(const torch::Tensor& logits) const;
  Batch to(const torch::Device& device) const;
  // Rows [begin, end) of a non-graph batch; `index` variant gathers rows.
  Batch rows(const torch::Tensor& index) const;
};

}  // namespace lrb
