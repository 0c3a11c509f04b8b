// LayeredModel: a model seen through its perturbable sites (Linear / Conv2d layers), which is what the LR
// engine perturbs. Site l maps its input x_l to the pre-activation z_l = layer_l(x_l). Two ways in:
//  - every model: forward_copies(batch, copies) runs `copies` copies of the batch with every site call
//    routed through call_layer(), as often as the architecture calls it (a recurrent cell's sites once
//    per time step). The engine's hook injects fresh noise at each call (docs/PAPER.md §2.4-§2.5).
//  - a chain (reuses_prefix()): site l is called once per forward, and trace(batch) / forward_from(l, z_l)
//    split the pass at any site, so layer-wise injection reuses the clean prefix (ChainModel).
// Rows of a tiled tensor are copy-major: row c*B + b is copy c of row b (so antithetic halves pair the
// same example). A row is an example (image, sentence) or a node of one graph; in a graph batch the rows
// of a copy are coupled (the loss is the mean over its masked nodes), which the engine handles.
#pragma once
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"

namespace lrb {

// A site: a Linear or Conv2d layer, or an Embedding (a lookup: its "pre-activation" is the looked-up row,
// so only logit noise applies; its input is int64 ids [R] and its output [R, embedding_dim]).
struct PerturbableLayer {
  std::string name;
  torch::nn::Linear linear{nullptr};  // exactly one of the three is set
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Embedding embedding{nullptr};
  bool is_conv() const { return !conv.is_empty(); }
  bool is_embedding() const { return !embedding.is_empty(); }
  torch::Tensor weight() const { return is_conv() ? conv->weight : is_embedding() ? embedding->weight : linear->weight; }
  torch::Tensor bias() const { return is_conv() ? conv->bias : is_embedding() ? torch::Tensor() : linear->bias; }
  // Output channels: what σ is given per (out_features, conv out_channels, embedding_dim).
  int64_t out_channels() const { return is_embedding() ? weight().size(1) : weight().size(0); }
  torch::Tensor operator()(const torch::Tensor& x) const {
    auto c = conv;  // holders share the module; copies give non-const access
    auto l = linear;
    auto e = embedding;
    return is_conv() ? c->forward(x) : is_embedding() ? e->forward(x) : l->forward(x);
  }
};

// The clean forward pass, keeping the input of every perturbable layer.
struct ForwardTrace {
  std::vector<torch::Tensor> inputs;  // inputs[l] = x_l (clean)
  torch::Tensor logits;
  Batch batch;  // what the pass ran on (a suffix needs e.g. a graph's adjacency or a text's lengths)
};

// A model's own LR settings per layer (docs/PAPER.md §2-§4): modes "weight" | "logit" | "none", copies per
// layer, initial sigma per layer. Carried by the model so a new model brings its presets along.
struct LrPreset {
  std::vector<std::string> modes;
  std::vector<int64_t> copies;
  std::vector<double> sigma;
};

// Row-tiles `t` (copy-major) `copies` times.
inline torch::Tensor tile_rows(const torch::Tensor& t, int64_t copies) {
  if (copies == 1) return t;
  std::vector<int64_t> reps(t.dim(), 1);
  reps[0] = copies;
  return t.repeat(reps);
}

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

  // Logits [copies*B, K] of `copies` copy-major copies of `batch` (graph: [copies*N, K]), every site
  // called through call_layer(), each call's input holding copies*B rows ([R, F] or [R, C, H, W]) and a
  // site's output size the same at every call. Glue that mixes rows (a graph's aggregation) does so
  // within each copy. The default tiles site 0's clean input and runs forward_from(0, ...); a model that
  // is not a chain overrides it. Parameters outside the sites (e.g. an embedding) cannot be trained by LR
  // (LrTrainer refuses them): make them a site, or freeze them (requires_grad false).
  virtual torch::Tensor forward_copies(const Batch& batch, int64_t copies);
  // The LR engine's clean pass of a model that is not a chain: forward_copies(batch, 1) by default. A model
  // with stochastic glue (dropout in training mode) draws it here, and its later forward_copies of the same
  // batch reuse the draw, so the noisy copies differ from the clean pass only by their noise.
  virtual torch::Tensor clean_forward(const Batch& batch) { return forward_copies(batch, 1); }

  // Rows of site l's output that can reach the loss of `batch`: bool [B] (rows of one copy), or an
  // undefined tensor when all can (the default). A graph model returns the nodes within reach of the loss
  // mask through the aggregations after site l. The LR engine draws no noise on the other rows: it would
  // leave every loss unchanged and only add variance (the per-call form is call_layer's `live`).
  virtual torch::Tensor live_rows(int l, const Batch& batch) const { return {}; }

  // True when forward_copies and forward_from may run on several threads at once, each on other copies of the same
  // batch (forward_copies with its own hook behind layer_hook): the passes write no member, draw no random numbers
  // and make no call_layer_shared. The LR engine then runs its chunks (the hook path's and a chain's layer-wise
  // suffixes) concurrently, one thread each, instead of every small op of one chunk on all threads: a recurrent
  // step's ops are too small to split, and a suffix's convolutions and GEMMs of ~100 rows split with hand-overs
  // between ATen's and OpenBLAS's threads. Default: false.
  virtual bool concurrent_copies() const { return false; }

  // True when trace/forward_from are implemented: each site is called exactly once per forward, so a
  // suffix can start at any site (layer-wise injection reusing the clean prefix). ChainModel: true.
  virtual bool reuses_prefix() const { return false; }
  // The clean pass keeping every site's input. Default: throws std::logic_error (not a chain).
  virtual ForwardTrace trace(const Batch& batch);
  // Logits from layer l's pre-activation `z` (rows = copies * B, copy-major), using clean values from
  // `trace` (tiled `copies` times) wherever the network needs them (e.g. a skip connection).
  // Default: throws std::logic_error (not a chain).
  virtual torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace& trace, int64_t copies);

  // Set by the LR engine to inject noise at every site call of one pass: call_layer() defers to the hook
  // while one is set. Arguments: the site index, its input rows (copy-major) and the call's live rows: a
  // bool [R] marking the rows whose output of this call can reach the loss, or an undefined tensor when
  // all can. The engine draws no noise on dead rows (a recurrent step past a sequence's true length):
  // such noise leaves every loss unchanged, so it would only add variance to the estimate.
  using Hook = std::function<torch::Tensor(int, const torch::Tensor&, const torch::Tensor&)>;
  Hook layer_hook;
  // Inside a call_layer_shared: its `copies` (the hook then sees one copy's input rows and returns all the
  // copies' rows); 0 otherwise.
  int64_t shared_copies() const { return shared_copies_; }

 protected:
  template <class Layer>
  torch::Tensor call_layer(int l, Layer& layer, const torch::Tensor& x, const torch::Tensor& live = {}) {
    return layer_hook ? layer_hook(l, x, live) : layer(x);
  }
  // A site call whose input is the same for every copy and is what the clean pass of the batch gave this
  // call (a graph model's node features before its first site): `x` holds one copy's rows, `live` one copy's;
  // returns `copies` copies' outputs, copy-major. The LR engine then reuses the clean pass's output and
  // forms the weight gradient once on the copies' summed noise terms, instead of once per copy. A hook that
  // returns one copy's rows has them tiled.
  template <class Layer>
  torch::Tensor call_layer_shared(int l, Layer& layer, const torch::Tensor& x, int64_t copies,
                                  const torch::Tensor& live = {}) {
    if (!layer_hook) return tile_rows(layer(x), copies);
    shared_copies_ = copies;
    struct Reset {
      int64_t& n;
      ~Reset() { n = 0; }
    } reset{shared_copies_};
    auto z = layer_hook(l, x, live);
    return z.size(0) == x.size(0) && copies > 1 ? tile_rows(z, copies) : z;
  }

 private:
  int64_t shared_copies_ = 0;
};


}  // namespace lrb
