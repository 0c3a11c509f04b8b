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
#include <functional>
#include <optional>
#include <vector>
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
  // eval.noise: on — the model's training noise kept on at inference (the hypothesis that a model looks robust
  // because its evaluation was noisy). install() turns the noise on for one forward pass, remove() off. Then
  // logits() returns the log of the mean softmax over `samples` noisy passes (the prediction of the stochastic
  // model), and every input gradient is the mean over `eot_iter` noisy passes: Expectation over
  // Transformation (Athalye et al. 2018; AutoAttack's "rand" version uses 20).
  struct Noise {
    std::function<void()> install, remove;
    int64_t samples = 20, eot_iter = 20;
  };

  explicit Victim(ClassifierImpl& model);
  // Keeps the model's training noise on in every later call (see Noise).
  void set_noise(Noise noise) { noise_ = std::move(noise); }
  bool noisy() const { return noise_.has_value(); }
  ~Victim();
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;

  // Logits [B,K] (graph: all N nodes) without gradients; one query per example (graph: per call).
  torch::Tensor logits(const Batch& batch);
  // Softmax probabilities [B,K]: what score-based (black-box) attacks read.
  torch::Tensor probs(const Batch& batch);
  // d/dx of the mean cross-entropy over the batch's counted examples (torchattacks: reduction='mean'),
  // shape of batch.x, float. `logits_out` (optional) receives the clean logits of the same pass (with noise:
  // the log of the mean softmax of the EOT passes, like logits()).
  // Throws GradientError when x is not floating point or the gradient is undefined or non-finite, or all
  // zero on the Victim's first call (the clean batch: a step or detached forward, never a real optimum).
  torch::Tensor input_grad(const Batch& batch, torch::Tensor* logits_out = nullptr);
  // Per-example loss for AutoAttack-style attacks: `loss` maps the counted logits [B,K] to one loss per
  // example [B]; returns d/dx of their sum (AutoAttack's criterion_indiv(...).sum()), so each example's
  // gradient is its own loss's. `logits_out` / `loss_out` (optional) receive the logits and the losses
  // of the same pass. Same refusals as input_grad.
  using PerExampleLoss = std::function<torch::Tensor(const torch::Tensor& logits)>;
  torch::Tensor loss_grad(const Batch& batch, const PerExampleLoss& loss, torch::Tensor* logits_out = nullptr,
                          torch::Tensor* loss_out = nullptr);

  int64_t queries() const { return queries_; }
  // Masking check 4 (Carlini et al. 2019; AutoAttack's check_zero_gradients): of the examples whose first
  // input gradient this Victim took, how many had it exactly zero (every entry). Counted, never refused
  // here: a share of dead examples is information, a batch of them only is refused as above.
  int64_t gradient_examples() const { return gradient_examples_; }
  int64_t zero_gradient_examples() const { return zero_gradient_examples_; }
  ClassifierImpl& model() { return model_; }

 private:
  ClassifierImpl& model_;
  bool was_training_;
  int64_t queries_ = 0;
  bool zero_checked_ = false;
  int64_t gradient_examples_ = 0, zero_gradient_examples_ = 0;
  std::optional<Noise> noise_;
  // The convolution kernels switched to channels-last for the Victim's life (restored by the destructor).
  std::vector<torch::Tensor> channels_last_;
  // `batch` with an image input in the layout the kernels are in.
  Batch in_layout(const Batch& batch) const;
  // One forward pass, with the noise on when set.
  torch::Tensor forward_once(const Batch& batch);
  // Gradient of the scalar `objective(logits)` w.r.t. the input, with every refusal of input_grad.
  torch::Tensor grad_of(const Batch& batch, const std::function<torch::Tensor(const torch::Tensor&)>& objective,
                        torch::Tensor* logits_out);
};

}  // namespace lrb
