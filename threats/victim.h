// Victim: the only way an attack reaches the model (torchattacks' Attack.__call__/get_logits, TextAttack's
// goal function). While a Victim lives the model is in eval mode (BatchNorm running stats, no dropout);
// the destructor restores the mode it found. Every call is counted in queries().
//
// White-box gradients are taken w.r.t. the input only (torch::autograd::grad), never through
// loss.backward(), so parameter .grad() is never touched and models whose parameters have
// requires_grad=false (trained by LR or ES) are attacked through the same architecture, with autograd,
// deterministically (no training noise). A gradient that is missing, non-finite or all zero is refused
// (GradientError) rather than silently turning an attack into a no-op that looks "robust".
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <stdexcept>

#include "core/batch.h"
#include "core/errors.h"
#include "models/classifier.h"

namespace lrb {

// Thrown when a white-box attack cannot get a usable input gradient from the model.
// Exit code 1, like other run-time errors (it is a property of the checkpoint, not of the command line).
struct GradientError : Error {
  explicit GradientError(const std::string& what) : Error(what, 1) {}
};

class Victim {
 public:
  explicit Victim(ClassifierImpl& model);
  ~Victim();
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;

  // Logits [B,K] (graph: all N nodes) without gradients; one query per example (graph: per call).
  torch::Tensor logits(const Batch& batch);
  // Softmax probabilities [B,K]: what score-based (black-box) attacks read.
  torch::Tensor probs(const Batch& batch);
  // d/dx of the mean cross-entropy over the batch's counted examples (torchattacks: reduction='mean'),
  // shape of batch.x, float. `logits_out` (optional) receives the clean logits of the same pass.
  // Throws GradientError when x is not floating point or the gradient is undefined or non-finite, or all
  // zero on the Victim's first call (the clean batch: a step or detached forward, never a real optimum).
  torch::Tensor input_grad(const Batch& batch, torch::Tensor* logits_out = nullptr);

  int64_t queries() const { return queries_; }
  ClassifierImpl& model() { return model_; }

 private:
  ClassifierImpl& model_;
  bool was_training_;
  int64_t queries_ = 0;
  bool zero_checked_ = false;
};

}  // namespace lrb
