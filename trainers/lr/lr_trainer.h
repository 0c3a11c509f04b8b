// LR-L and LR-WL trainers: settings decoded strictly from the trainer config, presets filled in at
// attach() from the model (docs/PAPER.md §2.1, §3, §4), and the LR engine run under NoGradGuard.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "trainers/lr/engine.h"
#include "trainers/trainer.h"

namespace lrb::lr {

// Trainer settings as written; empty lists / unset optionals are filled by presets in attach().
struct LrOptions {
  std::string flavor = "lr-wl";      // lr-l | lr-wl: which preset fills what is not given
  std::vector<std::string> modes;    // per layer none|logit|weight|auto (one entry broadcasts; auto = the rule)
  std::vector<int64_t> copies;       // per layer
  std::vector<double> sigma;         // per layer σ0
  std::string weight_noise = "auto"; // row | copy | auto (row for conv layers, copy for linear ones)
  bool learn_sigma = false;
  bool antithetic = true;
  std::string baseline = "clean-loss";
  std::string noise = "mc";
  bool layerwise = true;
  int64_t chunk_rows = 0;
  int64_t copies_divisor = 1;        // preset copies / divisor (rounded up to an even count >= 2): quick profiles
  std::map<std::string, std::string> where_of;  // config locations of the per-layer lists, for attach() errors
  static LrOptions from(const Config& c, const std::string& flavor);
  // Only the keys that say what noise is injected where (modes, sigma, learn_sigma): the BP+noise control.
  static LrOptions noise_from(const Config& c, const std::string& flavor);
};

// The weight-vs-logit rule behind the paper's hybrid (docs/PAPER.md §3; the paper's §4.6): the LR estimate's
// variance grows with the dimension of the noise, so a layer gets weight noise when it has fewer parameters
// (weights + bias) than pre-activations per example (early convs), logit noise otherwise. σ0 1e-3 for weight
// noise, 1e-1 for logit noise; 100 copies per layer.
LrPreset rule_preset(const std::string& flavor, const std::vector<PerturbableLayer>& layers,
                     const std::vector<int64_t>& preactivation_sizes);
// The model's own preset for `flavor`, else rule_preset (LR-L: the rule with logit noise everywhere).
LrPreset preset_for(const std::string& flavor, LayeredModel& model);

// Options + presets + model -> engine settings; throws ConfigError for lists of the wrong length.
// `resolved` (optional) receives the per-layer modes, copies (before copies_divisor) and σ0 with their source.
EngineSettings resolve(const LrOptions& o, const std::string& model_key, LayeredModel& model,
                       std::vector<Trainer::Resolved>* resolved = nullptr);

class LrTrainer : public Trainer {
 public:
  explicit LrTrainer(LrOptions o) : o_(std::move(o)) {}
  std::string key() const override { return o_.flavor; }
  void attach(ClassifierImpl& model) override;
  std::vector<torch::Tensor> parameters() override;
  StepStats estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator& gen) override;
  // The engine's noise at inference, per site as trained: logit noise N(0, σ²) on the pre-activation, or
  // weight noise on the kernel and bias — one kernel draw per pass, shared by the batch (the engine draws one
  // per example where weight_per_row is set, convolutions by default; for an EOT average over passes the
  // difference is a correlation between examples only).
  NoiseHook inference_noise(ClassifierImpl& model, at::Generator& gen) const override;
  // The same noise with σ kept in autograd's graph when σ is learned, so back-propagation through the hook also
  // reaches log σ (the BP+noise control, trainers/lr/bp_noise.cpp).
  NoiseHook training_noise(ClassifierImpl& model, at::Generator& gen) const;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  std::vector<Resolved> resolved_settings() const override { return resolved_; }

  // For the gradient probe: the resolved settings and the current per-channel σ of every layer.
  const EngineSettings& settings() const { return settings_; }
  EngineSettings& mutable_settings() { return settings_; }
  std::vector<torch::Tensor> sigmas() const;
  const LrOptions& options() const { return o_; }

 private:
  NoiseHook noise_hook(ClassifierImpl& model, at::Generator& gen, std::vector<torch::Tensor> sigma) const;
  LrOptions o_;
  EngineSettings settings_;
  std::vector<Resolved> resolved_;
  std::vector<torch::Tensor> log_sigma_;  // learned: parameters; fixed: constants
  bool attached_ = false;
};

// The LayeredModel view of `model`, or a ConfigError naming the trainer that needs it.
LayeredModel& layered(ClassifierImpl& model, const std::string& trainer);

// Writes g into p.grad() (allocating it on first use); an undefined g clears the gradient.
void set_grad(torch::Tensor& p, const torch::Tensor& g);

}  // namespace lrb::lr
