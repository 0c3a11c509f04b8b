#include "threats/victim.h"

#include <torch/torch.h>

namespace lrb {

// Attacks spend their time in the model's forward (and backward) passes. On CPU, oneDNN's convolutions run
// 1.5-2x faster on channels-last (NHWC) tensors than on the default NCHW layout for the small images and channel
// counts of this zoo (measured: ResNet-5, batches of 20-100), so the Victim switches the kernels for its life and
// feeds images in that layout. Only the layout changes, not the values; sums may round differently in the last bit.
Victim::Victim(ClassifierImpl& model) : model_(model), was_training_(model.is_training()) {
  model_.eval();
  torch::NoGradGuard no_grad;
  for (auto& p : model_.parameters())
    if (p.dim() == 4 && p.device().is_cpu()) {
      p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
      channels_last_.push_back(p);
    }
}

Victim::~Victim() {
  torch::NoGradGuard no_grad;
  for (auto& p : channels_last_) p.set_data(p.contiguous());
  model_.train(was_training_);
}

Batch Victim::in_layout(const Batch& batch) const {
  if (channels_last_.empty() || !batch.x.defined() || batch.x.dim() != 4 || !batch.x.is_floating_point()) return batch;
  Batch b = batch;
  b.x = batch.x.contiguous(torch::MemoryFormat::ChannelsLast);
  return b;
}

namespace {

// Noise on for exactly one pass, also when the forward throws.
struct NoiseOn {
  const Victim::Noise* n;
  explicit NoiseOn(const Victim::Noise* noise) : n(noise) {
    if (n) n->install();
  }
  ~NoiseOn() {
    if (n) n->remove();
  }
};

}  // namespace

torch::Tensor Victim::forward_once(const Batch& batch) {
  NoiseOn on(noise_ ? &*noise_ : nullptr);
  return model_.forward(in_layout(batch));
}

torch::Tensor Victim::logits(const Batch& batch) {
  torch::NoGradGuard no_grad;
  queries_ += batch.modality == Modality::kGraph ? 1 : batch.x.size(0);
  if (!noise_) return model_.forward(in_layout(batch));
  // The stochastic model's prediction: the mean of its softmax over noisy passes, as logits (log-probabilities).
  torch::Tensor p;
  for (int64_t k = 0; k < noise_->samples; ++k) {
    auto pk = torch::softmax(forward_once(batch), -1);
    p = k == 0 ? pk : p + pk;
  }
  return torch::log(p / static_cast<double>(noise_->samples));
}

torch::Tensor Victim::probs(const Batch& batch) { return torch::softmax(logits(batch), -1); }

torch::Tensor Victim::input_grad(const Batch& batch, torch::Tensor* logits_out) {
  return grad_of(
      batch,
      [&](const torch::Tensor& logits) {
        return torch::nn::functional::cross_entropy(batch.select(logits), batch.targets());
      },
      logits_out);
}

torch::Tensor Victim::loss_grad(const Batch& batch, const PerExampleLoss& loss, torch::Tensor* logits_out,
                                torch::Tensor* loss_out) {
  torch::Tensor per_example;  // summed over EOT passes, then averaged
  int64_t passes = 0;
  auto g = grad_of(
      batch,
      [&](const torch::Tensor& logits) {
        auto l = loss(batch.select(logits));
        per_example = passes++ == 0 ? l.detach() : per_example + l.detach();
        return l.sum();
      },
      logits_out);
  if (loss_out) *loss_out = per_example / static_cast<double>(passes);
  return g;
}

torch::Tensor Victim::grad_of(const Batch& batch, const std::function<torch::Tensor(const torch::Tensor&)>& objective,
                              torch::Tensor* logits_out) {
  if (!batch.x.is_floating_point())
    throw GradientError("model '" + model_.key() + "': its input (" + modality_name(batch.modality) +
                        ") is not continuous, so it has no input gradient; use a score-based attack");
  torch::AutoGradMode grad_on(true);  // evaluation loops run under NoGradGuard
  queries_ += batch.modality == Modality::kGraph ? 1 : batch.x.size(0);
  // EOT: with the noise on, the gradient (and the logits) are the mean over eot_iter noisy passes.
  const int64_t passes = noise_ ? noise_->eot_iter : 1;
  torch::Tensor g, logits;
  for (int64_t k = 0; k < passes; ++k) {
    auto x = batch.x.detach().clone().requires_grad_(true);
    Batch b = batch;
    b.x = x;
    auto logits_k = forward_once(b);
    auto loss = objective(logits_k);
    if (!loss.requires_grad())
      throw GradientError("model '" + model_.key() + "': the loss does not depend on the input through autograd "
                          "(its forward detaches or is not differentiable); a gradient attack would be a no-op");
    auto g_k = torch::autograd::grad({loss}, {x}, /*grad_outputs=*/{}, /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true)[0];
    if (!g_k.defined())
      throw GradientError("model '" + model_.key() + "': no gradient reaches the input; a gradient attack would be a no-op");
    g = k == 0 ? g_k : g + g_k;
    if (noise_) {  // the prediction of the stochastic model, as logits() gives it: the mean softmax
      auto p_k = torch::softmax(logits_k.detach(), -1);
      logits = k == 0 ? p_k : logits + p_k;
    } else {
      logits = logits_k.detach();
    }
  }
  if (passes > 1) g = g / static_cast<double>(passes);
  if (noise_) logits = torch::log(logits / static_cast<double>(passes));
  if (!torch::isfinite(g).all().item<bool>())
    throw GradientError("model '" + model_.key() + "': the input gradient is not finite");
  // Only the first gradient (on the clean batch) must be non-zero: later steps of an iterative attack may
  // legitimately saturate every example's softmax.
  if (!zero_checked_) {
    if (batch.modality != Modality::kGraph && g.dim() >= 1 && g.size(0) > 0) {
      gradient_examples_ += g.size(0);
      zero_gradient_examples_ += g.flatten(1).ne(0).any(1).logical_not().sum().item<int64_t>();
    }
    if (!g.ne(0).any().item<bool>())
      throw GradientError("model '" + model_.key() + "': the input gradient is zero everywhere (a step or detached "
                          "forward); a gradient attack would report a no-op as robustness");
  }
  zero_checked_ = true;
  if (logits_out) *logits_out = logits.detach();
  return g.detach().contiguous();  // in the caller's layout, whatever the kernels' was
}

}  // namespace lrb
