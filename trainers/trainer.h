// Trainer: "how gradients are obtained". A trainer only fills .grad(); torch::optim applies the update,
// so BP, ES, LR-L and LR-WL are comparable step for step (same optimizer, schedule, batches and seed).
#pragma once
#include <ATen/core/Generator.h>
#include <torch/serialize/archive.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "models/classifier.h"
#include "trainers/collective.h"

namespace lrb {

struct StepStats {
  double loss = 0;          // mean clean loss on the batch
  int64_t correct = 0;      // clean predictions that were right
  int64_t count = 0;        // examples that counted
  int64_t forward_rows = 0; // rows pushed through (parts of) the network: the compute budget
};

class Trainer {
 public:
  static constexpr const char* kKind = "trainer";
  using Ptr = std::unique_ptr<Trainer>;
  using Factory = std::function<Ptr(const Config&)>;

  virtual ~Trainer() = default;
  virtual std::string key() const = 0;
  // Called once before the optimizer exists: trainers with state of their own (learned noise scales)
  // create it here and return it from parameters(), so the same optimizer updates it.
  virtual void attach(ClassifierImpl& model) {}
  virtual std::vector<torch::Tensor> parameters() { return {}; }
  // What attach() resolved beyond the config (LR: each layer's mode, copies and σ0 from the model's preset or
  // the weight-vs-logit rule), as keys of the trainer's section with their values and where they came from.
  // plan_run writes them into the resolved config, so a run is re-created from its directory even after a
  // preset changes, and run.json names their source.
  struct Resolved {
    std::string key;
    std::vector<std::string> values;
    std::string source;
  };
  virtual std::vector<Resolved> resolved_settings() const { return {}; }
  // Overwrites (never accumulates) .grad() of every trainable parameter of the model and of the trainer's
  // own parameters() with its estimate of d mean-loss / d theta on `batch`; a parameter it cannot estimate
  // gets an undefined .grad() (frozen). Randomness comes only from `gen`, a host (CPU) generator whatever the
  // model's device: draw keys or host values from it, or seed a device generator with a draw. LR/ES trainers run under
  // NoGradGuard and never call backward. Throws ConfigError when the model does not suit the trainer (e.g.
  // LR on a model that is not a LayeredModel); the caller checks the loss and gradients for NaN/Inf.
  virtual StepStats estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator& gen) = 0;
  // The noise this trainer trains under, for an evaluation that keeps it on (eval.noise: on): a hook for the
  // model's sites (LayeredModel::layer_hook) that draws fresh noise from `gen` at every site call and lets
  // autograd through to the input. Empty when the trainer has no such noise (BP; ES, whose population noise
  // is around the parameters it returns). Call after attach() and after the trainer state is loaded.
  using NoiseHook = std::function<torch::Tensor(int, const torch::Tensor&, const torch::Tensor&)>;
  virtual NoiseHook inference_noise(ClassifierImpl& model, at::Generator& gen) const { return {}; }
  virtual void save(torch::serialize::OutputArchive& archive) const {}
  virtual void load(torch::serialize::InputArchive& archive) {}
  // The processes this run spans. Each rank's estimate_grad does its share (LR: copies of every layer; ES:
  // population members; BP: rows of the batch) and all-reduces, so every rank leaves the same .grad(). The
  // generator passed to estimate_grad must be in the same state on every rank.
  void set_collective(Collective& c) { collective_ = &c; }
  Collective& collective() const { return collective_ ? *collective_ : solo(); }

 private:
  Collective* collective_ = nullptr;
};

}  // namespace lrb
