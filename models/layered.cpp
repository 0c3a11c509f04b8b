#include "models/layered.h"

#include <torch/torch.h>

#include <stdexcept>

namespace lrb {

torch::Tensor LayeredModel::forward_copies(const Batch& batch, int64_t copies) {
  auto t = trace(batch);
  auto sites = layers();
  TORCH_CHECK(!sites.empty(), "forward_copies: the model has no perturbable sites");
  auto z0 = call_layer(0, sites[0], tile_rows(t.inputs[0], copies));
  return forward_from(0, z0, t, copies);
}

ForwardTrace LayeredModel::trace(const Batch&) {
  throw std::logic_error("this model is not a chain of sites (reuses_prefix() is false): it has no trace()");
}

torch::Tensor LayeredModel::forward_from(int, const torch::Tensor&, const ForwardTrace&, int64_t) {
  throw std::logic_error("this model is not a chain of sites (reuses_prefix() is false): it has no forward_from()");
}

}  // namespace lrb
