// ClassifierImpl: every model of the zoo (XImpl + TORCH_MODULE(X) + XOptions), built from the registry.
#pragma once
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <string>

#include "core/batch.h"
#include "core/config.h"

namespace lrb {

struct ModelContext {
  InputSpec input;
  int64_t num_classes = 10;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  static constexpr const char* kKind = "model";
  using Ptr = std::shared_ptr<ClassifierImpl>;
  using Factory = std::function<Ptr(const Config&, const ModelContext&)>;

  // Logits [B, num_classes] (graph: [N, num_classes], one row per node; Batch::select picks the counted
  // ones). Images arrive as float [B,C,H,W] in [0,1] pixel space: per-channel normalisation happens inside
  // the model (buffers input_mean/input_std, saved in the checkpoint), so attacks and corruptions never see
  // normalised values. Text: int64 ids [B,T] with lengths [B]. Must be differentiable w.r.t. float inputs
  // (white-box attacks take autograd gradients through it) and deterministic in eval mode. Throws
  // c10::Error for an input of the wrong shape.
  virtual torch::Tensor forward(const Batch& batch) = 0;
  virtual std::string key() const = 0;       // the registry key, stored in checkpoints
  virtual Modality modality() const = 0;     // checked against the dataset's before training/evaluation
  // Why a white-box attack cannot take this model's input gradient (one line naming the setting and the fix),
  // empty when it can. The evaluator refuses such attacks before any threat runs, writing nothing (a spiking net
  // without surrogate).
  virtual std::string input_grad_refusal() const { return {}; }
};

}  // namespace lrb
