// Threats: what evaluation does to a trained model's test inputs. Two plugin kinds share this header:
//   Attack      (registry kind "attack")     sees the model through a Victim (gradients or scores);
//   Corruption  (registry kind "corruption") never sees the model, only the clean batch.
// Both work on any modality's Batch (images [B,C,H,W] in [0,1]; text [B,T] token ids + lengths; graph
// with node features, edge_index and a node mask), so text and graph threats fit without change.
// Semantics and defaults follow docs/ATTACKS.md (torchattacks, TextAttack, DeepRobust,
// CIFAR-10-C); each plugin file cites its source and states any deviation.
#pragma once
#include <ATen/core/Generator.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/batch.h"
#include "core/config.h"

namespace lrb {

class Victim;

// A text model's vocabulary as threats see it (threats may not include datasets/): ids are the model's
// token ids, so a word swapped in by an attack is exactly what the model's tokenizer would have produced.
struct TextVocab {
  std::vector<std::string> words;  // id -> word (lower-case tokens of datasets/tokenizer.h)
  int64_t pad = 0, unk = 1;        // the model's <pad> and <unk> ids
  explicit TextVocab(std::vector<std::string> id_to_word, int64_t pad_id = 0, int64_t unk_id = 1);
  int64_t size() const { return static_cast<int64_t>(words.size()); }
  // -1 when absent (callers decide whether that means <unk> or "drop the candidate").
  int64_t find(const std::string& word) const;
  const std::string& word(int64_t id) const;  // throws std::out_of_range

 private:
  std::unordered_map<std::string, int64_t> index_;
};

// What a threat may know about the data, besides the batch itself. The evaluator fills it from the
// dataset (DatasetSource::vocabulary/test_sentences); tests build it by hand.
struct ThreatContext {
  InputSpec input;          // per-example shape, per-channel mean/std (images: the model's own normalisation)
  int64_t num_classes = 0;
  std::shared_ptr<const TextVocab> vocab;  // text data only; null otherwise
  // Text data only: for test row i, the sentence number (0, 1, ...) of each of its tokens in order (the
  // dataset's sentence splitter, e.g. datasets/ag_news.h). Null when the dataset has none.
  std::shared_ptr<const std::vector<std::vector<int32_t>>> sentences;
  // The test row a Corruption::draw is drawing for: set by corrupt() on its own copy of the context
  // (-1 elsewhere), so per-row data such as `sentences` can be looked up.
  int64_t example = -1;
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
  // Called by the evaluator once, after check(ctx) and before the first perturb(): what an attack needs
  // from the data beyond the batch (text attacks keep the vocabulary). Nothing by default; the context
  // outlives the attack's use of it only through what the attack copies or shares (shared_ptr members).
  virtual void bind(const ThreatContext& ctx) {}
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
