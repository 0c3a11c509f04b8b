#include "models/layered.h"

#include <torch/torch.h>

#include <stdexcept>

namespace lrb {

torch::Tensor LayeredModel::forward_copies(const Batch& batch, int64_t copies) {
  auto hook = std::move(layer_hook);  // the clean trace must not reach a noise hook
  layer_hook = nullptr;
  auto t = trace(batch);
  layer_hook = std::move(hook);
  auto sites = layers();
  TORCH_CHECK(!sites.empty(), "forward_copies: the model has no perturbable sites");
  auto z0 = call_layer(0, sites[0], tile_rows(t.inputs[0], copies));
  return forward_from(0, z0, t, copies);
}

ForwardTrace LayeredModel::trace(const Batch&) {
  throw std::logic_error("LayeredModel::trace: not implemented by this model (a chain implements trace, forward_from "
                         "and reuses_prefix() = true; other models only forward_copies)");
}

torch::Tensor LayeredModel::forward_from(int, const torch::Tensor&, const ForwardTrace&, int64_t) {
  throw std::logic_error("LayeredModel::forward_from: not implemented by this model (a chain implements trace, "
                         "forward_from and reuses_prefix() = true; other models only forward_copies)");
}

}  // namespace lrb
