// Threats: what evaluation does to a trained model's test inputs. Two plugin kinds share this header:
//   Attack      (registry kind "attack")     sees the model through a Victim (gradients or scores);
//   Corruption  (registry kind "corruption") never sees the model, only the clean batch.
// Both work on any modality's Batch (images [B,C,H,W] in [0,1]; text [B,T] token ids + lengths; graph
// with node features, edge_index and a node mask), so text and graph threats fit without change.
// Semantics and defaults follow ../shared/design/ATTACKS.md (torchattacks, TextAttack, DeepRobust,
// CIFAR-10-C); each plugin file cites its source and states any deviation.
#pragma once
#include <ATen/core/Generator.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"

namespace lrb {

class Victim;

// What a threat may know about the data, besides the batch itself.
struct ThreatContext {
  InputSpec input;          // per-example shape, per-channel mean/std (images: the model's own normalisation)
  int64_t num_classes = 0;
};

class Threat {
 public:
  virtual ~Threat() = default;
  virtual std::string key() const = 0;     // registry key, e.g. "i-fgsm"
  // The paper's column name (Table 1: Gaussian, Uniform, Poisson, FGSM, I-FGSM, MI-FGSM, Grey, RanMask).
  virtual std::string metric() const = 0;
  // Every setting that changes the result, as "k=v;k=v" (the threat_params column), fixed order.
  virtual std::string params() const = 0;
  virtual std::vector<Modality> modalities() const = 0;
  bool fits(Modality m) const;
  // Checks the settings against the data before any work is done (a mask larger than the image, grey on
  // 1-channel images); throws ConfigError naming the setting and the fix. Nothing to check by default.
  virtual void check(const ThreatContext& ctx) const {}
};

// White- or black-box attack. perturb() returns an adversarial copy of `clean` (same shape, same
// modality, images kept in [0,1]) and must leave the model exactly as it found it: mode, parameters and
// parameter .grad() untouched (the Victim enforces eval mode and input-only gradients).
class Attack : public Threat {
 public:
  static constexpr const char* kKind = "attack";
  using Ptr = std::unique_ptr<Attack>;
  using Factory = std::function<Ptr(const Config&)>;
  // True for attacks that need dL/dx (FGSM family); such attacks refuse a model without an input gradient.
  virtual bool needs_input_grad() const = 0;
  virtual Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) = 0;
};

// Model-free corruption. Randomness is drawn per example (draw) so that every model sees exactly the
// same corrupted test set: the evaluator seeds example i's generator from (seed, i). apply() is
// deterministic given the draws, which lets tests inject draws by hand.
class Corruption : public Threat {
 public:
  static constexpr const char* kKind = "corruption";
  using Ptr = std::unique_ptr<Corruption>;
  using Factory = std::function<Ptr(const Config&)>;
  // The random part for one example (`example` is a 1-example Batch); undefined for deterministic ones.
  virtual torch::Tensor draw(const Batch& example, const ThreatContext& ctx, at::Generator& gen) const { return {}; }
  // `draws` stacks draw() over the batch along dim 0 (undefined when draw() returns none).
  virtual Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext& ctx) const = 0;
};

// Corrupts `clean` whose rows are test examples `index[b]` (int64 [B]): example i draws from a
// generator seeded with splitmix64(seed + i), so the result does not depend on batching.
Batch corrupt(const Corruption& c, const Batch& clean, const torch::Tensor& index, uint64_t seed,
              const ThreatContext& ctx);

// Builds the threat named by cfg's `name` from the attack or corruption registry (keys never clash);
// unknown names are a ConfigError listing both kinds' keys. Unread keys in cfg are rejected.
std::unique_ptr<Threat> make_threat(const Config& cfg);
// Every registered threat key (attacks and corruptions), sorted.
std::vector<std::string> threat_keys();

// Formats a double for params(): shortest round-trip form ("0.0313725" for 8/255).
std::string param_number(double v);

}  // namespace lrb
