#include "threats/text/goal.h"

#include <torch/torch.h>

#include <stdexcept>

namespace lrb::text {

UntargetedClassification::UntargetedClassification(Victim& victim, int64_t label, int64_t width, int64_t pad,
                                                   torch::Device device)
    : victim_(victim), label_(label), width_(width), pad_(pad), device_(device) {}

GoalResult UntargetedClassification::from_probs(const torch::Tensor& p, int64_t label) {
  auto row = p.to(torch::kCPU, torch::kDouble).contiguous();
  GoalResult r;
  r.p_label = row[label].item<double>();
  r.score = 1.0 - r.p_label;
  r.success = row.argmax().item<int64_t>() != label;
  return r;
}

std::vector<GoalResult> UntargetedClassification::evaluate(const std::vector<std::vector<int64_t>>& texts) {
  std::vector<size_t> missing;
  std::map<std::vector<int64_t>, size_t> first;  // a text listed twice in one call is queried once
  for (size_t i = 0; i < texts.size(); ++i)
    if (!cache_.count(texts[i]) && first.emplace(texts[i], i).second) missing.push_back(i);
  for (size_t b0 = 0; b0 < missing.size(); b0 += kMaxBatch) {
    const size_t n = std::min<size_t>(kMaxBatch, missing.size() - b0);
    // host: filled element-wise here, then moved to the victim's device
    auto ids = torch::full({static_cast<int64_t>(n), width_}, pad_, torch::kLong);
    auto lengths = torch::empty({static_cast<int64_t>(n)}, torch::kLong);
    auto id_acc = ids.accessor<int64_t, 2>();
    for (size_t r = 0; r < n; ++r) {
      const auto& t = texts[missing[b0 + r]];
      if (t.empty() || static_cast<int64_t>(t.size()) > width_)
        throw std::invalid_argument("a text attack produced a text of length " + std::to_string(t.size()) +
                                    " (the model takes 1.." + std::to_string(width_) + " tokens)");
      for (size_t k = 0; k < t.size(); ++k) id_acc[r][k] = t[k];
      lengths[r] = static_cast<int64_t>(t.size());
    }
    Batch b;
    b.modality = Modality::kText;
    b.x = ids.to(device_);
    b.lengths = lengths.to(device_);
    b.y = torch::full({static_cast<int64_t>(n)}, label_, torch::kLong).to(device_);
    auto p = victim_.probs(b).to(torch::kCPU);
    for (size_t r = 0; r < n; ++r) cache_[texts[missing[b0 + r]]] = from_probs(p[r], label_);
  }
  std::vector<GoalResult> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(cache_.at(t));
  return out;
}

}  // namespace lrb::text
