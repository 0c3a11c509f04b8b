// ChainModel: a layered model written once. A model is a list of sites (perturbable Linear/Conv2d
// layers) and, before each site, the parameter-free "glue" that turns the previous site's
// pre-activation into this site's input (activation, pooling, flatten, a skip connection). From that
// single description ChainModel derives every path the suite needs:
//   forward(batch)           clean logits (what BP trains and attacks differentiate through),
//   trace(batch)             the clean pass keeping every site's input (the LR engine's clean prefix),
//   forward_from(l, z, ...)  the suffix after site l for `copies` noisy copies (copy-major rows),
//   forward_copies(batch, m) the whole pass on m copies (the LR engine's hook path),
// so they can never disagree. A glue that needs an earlier site's input (a skip) asks Flow::input(k):
// inside a suffix that is the clean value for sites at or before the perturbed one (kept [B,...] and
// broadcast over the copies by Flow::add_skip, never tiled) and the noisy value after it.
#pragma once
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/batch.h"
#include "models/layered.h"

namespace lrb {

class Flow {
 public:
  // Site k's input as seen by the running pass (see the header comment). Inside a suffix, a site after
  // the perturbed one is only kept when the model declared it with keep_input(k).
  const torch::Tensor& input(int k) const;
  // x + site k's input, broadcasting a clean [B,...] skip over copy-major rows [copies*B,...].
  torch::Tensor add_skip(const torch::Tensor& x, int k) const;
  // The same, added into x when no gradient is recorded: x must be a tensor the glue itself just made.
  torch::Tensor add_skip_into(const torch::Tensor& x, int k) const;
  // ReLU of z, in place when z was made by this pass for this glue alone and no gradient is recorded (a noisy
  // suffix's element-wise work then stays in the cache, without a new buffer); a new tensor for the pass's
  // first glue (z is the caller's) and while a layer hook may keep z.
  torch::Tensor relu(const torch::Tensor& z) const;
  // max_pool2d(relu(z), k) as relu(max_pool2d(z, k)): the same values and gradient (ReLU is monotone, so it
  // commutes with max), on k² times fewer elements and without a buffer for relu(z).
  torch::Tensor relu_pool(const torch::Tensor& z, int64_t k) const;
  // The batch the pass runs on (untiled: a graph's adjacency, a text's lengths) and how many copy-major
  // copies of its rows the running tensors hold.
  const Batch& batch() const { return *batch_; }
  int64_t copies() const { return copies_; }

 private:
  friend class ChainModel;
  // x and site k's input as two tensors that add element-wise: a clean [B,...] skip beside copy-major rows
  // [copies*B,...] becomes the views [1,B,...] and [copies,B,...].
  std::pair<torch::Tensor, torch::Tensor> skip_operands(const torch::Tensor& x, int k) const;
  int from_ = -1;                     // the perturbed site; -1 for a clean pass
  int64_t copies_ = 1;
  bool scratch_ = false;              // relu(): the glue's z belongs to this pass's glue alone
  const ForwardTrace* trace_ = nullptr;
  const Batch* batch_ = nullptr;
  std::vector<torch::Tensor> live_;   // inputs computed by this pass
};

class ChainModel : public LayeredModel {
 public:
  // x_l = glue(z_{l-1}, flow); for site 0, z_{-1} is the (normalised) model input.
  using Glue = std::function<torch::Tensor(const torch::Tensor& z_prev, const Flow& flow)>;

  std::vector<PerturbableLayer> layers() override { return sites_; }
  bool reuses_prefix() const override { return true; }
  ForwardTrace trace(const Batch& batch) override;
  torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace& trace, int64_t copies) override;
  torch::Tensor forward_copies(const Batch& batch, int64_t copies) override;
  // Per-example pre-activation size of every site (for the weight-vs-logit rule), measured once.
  std::vector<int64_t> preactivation_sizes() const override { return preact_; }

 protected:
  // Describe the model: call add_site in order, then finish_chain with a sample input shape.
  void add_site(PerturbableLayer site, Glue glue) {
    sites_.push_back(std::move(site));
    glue_.push_back(std::move(glue));
  }
  void set_head(Glue head) { head_ = std::move(head); }  // after the last site; identity by default
  // Declares that a later glue reads site k's input (a skip). Noisy suffix passes keep only these, so
  // the LR engine's copies hold one activation at a time, as its chunk sizing assumes.
  void keep_input(int k) { keep_.resize(std::max<size_t>(keep_.size(), k + 1)), keep_[k] = true; }
  void finish_chain(const std::vector<int64_t>& example_shape);
  // The same with a probe batch of one example (or a one-node graph, whose glue needs an adjacency).
  void finish_chain(const Batch& probe);
  // The model input as the first glue sees it (normalisation lives in the model, not the data).
  virtual torch::Tensor prepare(const Batch& batch) { return batch.x; }

 private:
  torch::Tensor run(int from, torch::Tensor z, Flow& flow);
  std::vector<PerturbableLayer> sites_;
  std::vector<Glue> glue_;
  Glue head_;
  std::vector<int64_t> preact_;
  std::vector<bool> keep_;
};

}  // namespace lrb
