#include "threats/text/text_attack.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <numeric>
#include <stdexcept>
#include <utility>

#include "core/errors.h"
#include "core/seed.h"

namespace lrb::text {

uint64_t Rng::next() { return state_ = splitmix64(state_); }

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int64_t Rng::categorical(const std::vector<double>& weights) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (!(total > 0)) throw std::invalid_argument("Rng::categorical: the weights sum to zero");
  const double u = uniform() * total;
  double acc = 0;
  int64_t last = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    acc += weights[i];
    last = static_cast<int64_t>(i);
    if (u < acc) return last;
  }
  return last;  // u within rounding of the total
}

TextAttack::TextAttack(Recipe recipe) : r_(std::move(recipe)) {
  if (!r_.search) throw std::logic_error(r_.key + ": a text attack needs a search method");
}

void TextAttack::check(const ThreatContext& ctx) const {
  if (!ctx.vocab)
    throw ConfigError(fmt::format("threat '{}' needs the words of a text dataset (a vocabulary), and this data has "
                                  "none; use it with dataset ag-news", r_.key));
}

void TextAttack::bind(const ThreatContext& ctx) {
  check(ctx);
  if (vocab_ != ctx.vocab) {
    vocab_ = ctx.vocab;
    transformation_ = std::make_unique<WordSwapWordNet>(vocab_, r_.pos_matched);
  }
}

std::vector<AttackRecord> TextAttack::take_records() { return std::exchange(records_, {}); }

Batch TextAttack::perturb(Victim& victim, const Batch& clean, at::Generator& gen) {
  if (!vocab_) throw std::logic_error(r_.key + ": bind() the threat context (the vocabulary) before perturb()");
  if (clean.modality != Modality::kText || clean.x.dim() != 2 || !clean.lengths.defined())
    throw std::invalid_argument(r_.key + ": needs a text batch (token ids [B,T] and lengths [B])");
  const auto device = clean.x.device();
  auto x = clean.x.to(torch::kCPU, torch::kLong).contiguous().clone();
  auto lengths = clean.lengths.to(torch::kCPU, torch::kLong).contiguous();
  auto labels = clean.y.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t B = x.size(0), T = x.size(1);
  // One seed per row, drawn whether or not the row is attacked, so no row's search depends on another's.
  auto seeds = at::randint(0, int64_t{1} << 62, {B}, gen, torch::TensorOptions(torch::kLong).device(gen.device()))
                   .to(torch::kCPU);
  auto probs = victim.probs(clean).to(torch::kCPU);  // the clean query: one per example
  auto xa = x.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = std::min(lengths[b].item<int64_t>(), T), label = labels[b].item<int64_t>();
    std::vector<int64_t> original(n);
    for (int64_t t = 0; t < n; ++t) original[t] = xa[b][t];
    const auto initial = UntargetedClassification::from_probs(probs[b], label);
    if (initial.success && !r_.attack_misclassified) continue;  // already misclassified: a model error, not attacked
    UntargetedClassification goal(victim, label, T, vocab_->pad, device);
    goal.remember(original, initial);
    Rng rng(static_cast<uint64_t>(seeds[b].item<int64_t>()));
    SearchContext ctx{goal, *transformation_, r_.constraints, rng};
    const int64_t queries_before = victim.queries();
    auto adv = r_.search->search(original, initial, ctx);
    auto changed = Constraints::changed(adv, original);
    if (static_cast<int64_t>(changed.size()) > r_.constraints.max_modified(n))
      throw std::logic_error(fmt::format("{}: the search changed {} of {} words (cap {})", r_.key, changed.size(), n,
                                         r_.constraints.max_modified(n)));
    const auto final_result = goal.evaluate(adv);
    AttackRecord rec;
    rec.index = b;
    rec.label = label;
    for (int64_t t = 0; t < n; ++t) {
      rec.original.push_back(vocab_->word(original[t]));
      rec.adversarial.push_back(vocab_->word(adv[t]));
      xa[b][t] = adv[t];
    }
    rec.changed = std::move(changed);
    rec.queries = 1 + victim.queries() - queries_before;
    rec.success = final_result.success && !ctx.failed;
    rec.p_original = initial.p_label;
    rec.p_adversarial = final_result.p_label;
    records_.push_back(std::move(rec));
  }
  Batch out = clean;
  out.x = x.to(device);
  return out;
}

}  // namespace lrb::text
