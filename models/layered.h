// LayeredModel: a model seen as a chain of perturbable layers (Linear / Conv2d), which is what the LR
// engine needs to reuse the clean prefix. Layer l maps its input x_l to the pre-activation
// z_l = layer_l(x_l); forward_from(l, z_l) runs everything after it. Rows of a tiled tensor are
// copy-major: row c*B + b is copy c of example b (so antithetic halves pair the same example).
#pragma once
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"

namespace lrb {

struct PerturbableLayer {
  std::string name;
  torch::nn::Linear linear{nullptr};  // exactly one of the two is set
  torch::nn::Conv2d conv{nullptr};
  bool is_conv() const { return !conv.is_empty(); }
  torch::Tensor weight() const { return is_conv() ? conv->weight : linear->weight; }
  torch::Tensor bias() const { return is_conv() ? conv->bias : linear->bias; }
  torch::Tensor operator()(const torch::Tensor& x) const {
    auto c = conv;  // holders share the module; copies give non-const access
    auto l = linear;
    return is_conv() ? c->forward(x) : l->forward(x);
  }
};

// The clean forward pass, keeping the input of every perturbable layer.
struct ForwardTrace {
  std::vector<torch::Tensor> inputs;  // inputs[l] = x_l (clean)
  torch::Tensor logits;
};

// A model's own LR settings per layer (PAPER.md §2-§4): modes "weight" | "logit" | "none", copies per
// layer, initial sigma per layer. Carried by the model so a new model brings its presets along.
struct LrPreset {
  std::vector<std::string> modes;
  std::vector<int64_t> copies;
  std::vector<double> sigma;
};

class LayeredModel {
 public:
  virtual ~LayeredModel() = default;
  // The paper's preset for `flavor` ("lr-l" | "lr-wl"); nullopt lets the trainer apply the
  // weight-vs-logit rule (trainers/lr: weight noise where a layer has fewer parameters than
  // pre-activations per example, logit noise elsewhere).
  virtual std::optional<LrPreset> lr_preset(const std::string& flavor) const { return std::nullopt; }
  // Per-example pre-activation size of each layer (out_features; C_out*H_out*W_out); empty if unknown.
  virtual std::vector<int64_t> preactivation_sizes() const { return {}; }
  virtual std::vector<PerturbableLayer> layers() = 0;
  virtual ForwardTrace trace(const Batch& batch) = 0;
  // Logits from layer l's pre-activation `z` (rows = copies * B, copy-major), using clean values from
  // `trace` (tiled `copies` times) wherever the network needs them (e.g. a skip connection).
  virtual torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace& trace, int64_t copies) = 0;

  // Set by the LR engine to perturb every layer within one pass (no layer-wise injection): forward_from
  // calls each perturbable layer through call_layer(), which defers to the hook while one is set.
  std::function<torch::Tensor(int, const torch::Tensor&)> layer_hook;

 protected:
  template <class Layer>
  torch::Tensor call_layer(int l, Layer& layer, const torch::Tensor& x) {
    return layer_hook ? layer_hook(l, x) : layer(x);
  }
};

// Row-tiles `t` (copy-major) `copies` times.
inline torch::Tensor tile_rows(const torch::Tensor& t, int64_t copies) {
  if (copies == 1) return t;
  std::vector<int64_t> reps(t.dim(), 1);
  reps[0] = copies;
  return t.repeat(reps);
}

}  // namespace lrb
