#include "core/batch.h"

#include <torch/torch.h>

namespace lrb {

const char* modality_name(Modality m) {
  switch (m) {
    case Modality::kImage: return "image";
    case Modality::kText: return "text";
    case Modality::kGraph: return "graph";
    case Modality::kSpike: return "spike";
  }
  return "?";
}

int64_t Batch::size() const {
  if (mask.defined()) return mask.sum().item<int64_t>();
  return y.defined() ? y.size(0) : x.size(0);
}

torch::Tensor Batch::targets() const { return mask.defined() ? y.index({mask}) : y; }

torch::Tensor Batch::select(const torch::Tensor& logits) const {
  return mask.defined() ? logits.index({mask}) : logits;
}

Batch Batch::to(const torch::Device& device) const {
  Batch b = *this;
  auto mv = [&](torch::Tensor& t) {
    if (t.defined()) t = t.to(device);
  };
  mv(b.x), mv(b.y), mv(b.lengths), mv(b.adj), mv(b.edge_index), mv(b.mask);
  return b;
}

Batch Batch::rows(const torch::Tensor& index) const {
  TORCH_CHECK(modality != Modality::kGraph, "Batch::rows: a graph batch is not split by rows");
  Batch b = *this;
  b.x = x.index_select(0, index);
  if (y.defined()) b.y = y.index_select(0, index);
  if (lengths.defined()) b.lengths = lengths.index_select(0, index);
  return b;
}

}  // namespace lrb
