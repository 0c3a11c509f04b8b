// bp-noise-l / bp-noise-wl: back-propagation through the noise LR-L / LR-WL train under — the noise-injection
// control of the claim audit (issue 33). LR training *is* training with Gaussian noise at every perturbation site,
// and noise injection alone adds robustness (Parametric Noise Injection, He et al., CVPR 2019), so an LR-vs-BP
// difference means something only beside BP trained under the same noise. Same sites, modes and σ as the LR
// trainer of that flavour (its keys modes, sigma, learn_sigma and the model's preset); one noisy forward pass per
// step, no copies: weight noise is one kernel draw per step shared by the batch (as PNI draws it), logit noise one
// draw per pre-activation. With learn_sigma, log σ gets its gradient through the same backward pass (PNI's learned
// scale); plain BP then tends to shrink σ, which is PNI's own finding, so the report records σ with the run.
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/registry.h"
#include "trainers/lr/lr_trainer.h"

namespace lrb::lr {

namespace {

class BpNoise final : public Trainer {
 public:
  BpNoise(const std::string& key, LrOptions o) : key_(key), lr_(std::move(o)) {}
  std::string key() const override { return key_; }
  void attach(ClassifierImpl& model) override {
    lr_.attach(model);
    attached_ = true;
  }
  std::vector<torch::Tensor> parameters() override { return lr_.parameters(); }
  // What the noise is (modes, σ0): the LR trainer's copies and chunking have no meaning here.
  std::vector<Resolved> resolved_settings() const override {
    std::vector<Resolved> out;
    for (const auto& r : lr_.resolved_settings())
      if (r.key == "modes" || r.key == "sigma") out.push_back(r);
    return out;
  }
  StepStats estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator& gen) override {
    if (!attached_) attach(model);
    if (collective().world() > 1)
      throw ConfigError(fmt::format("trainer '{}': one process only (its noise is drawn per step, not per copy)", key_));
    for (auto& p : model.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    for (auto& p : lr_.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    auto& lm = layered(model, key_);
    lm.layer_hook = lr_.training_noise(model, gen);
    struct Reset {
      LayeredModel& m;
      ~Reset() { m.layer_hook = nullptr; }
    } reset{lm};
    auto logits = batch.select(model.forward(batch));
    auto y = batch.targets();
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    StepStats s;
    s.loss = loss.item<double>();  // under the noise: the loss this trainer descends
    s.correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    s.count = y.size(0);
    s.forward_rows = s.count;
    return s;
  }
  NoiseHook inference_noise(ClassifierImpl& model, at::Generator& gen) const override {
    return lr_.inference_noise(model, gen);
  }
  void save(torch::serialize::OutputArchive& archive) const override { lr_.save(archive); }
  void load(torch::serialize::InputArchive& archive) override { lr_.load(archive); }

 private:
  std::string key_;
  LrTrainer lr_;
  bool attached_ = false;
};

}  // namespace

LRB_REGISTER(Trainer, "bp-noise-l", "back-propagation under LR-L's noise (the noise-injection control)",
             [](const Config& c) -> Trainer::Ptr {
               return std::make_unique<BpNoise>("bp-noise-l", LrOptions::noise_from(c, "lr-l"));
             });
LRB_REGISTER(Trainer, "bp-noise-wl", "back-propagation under LR-WL's noise (the noise-injection control)",
             [](const Config& c) -> Trainer::Ptr {
               return std::make_unique<BpNoise>("bp-noise-wl", LrOptions::noise_from(c, "lr-wl"));
             });

}  // namespace lrb::lr
