#include "threats/threat.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/errors.h"
#include "core/registry.h"
#include "core/seed.h"

namespace lrb {

TextVocab::TextVocab(std::vector<std::string> id_to_word, int64_t pad_id, int64_t unk_id)
    : words(std::move(id_to_word)), pad(pad_id), unk(unk_id) {
  index_.reserve(words.size());
  for (int64_t i = 0; i < size(); ++i) index_.emplace(words[i], i);
}

int64_t TextVocab::find(const std::string& word) const {
  auto it = index_.find(word);
  return it == index_.end() ? -1 : it->second;
}

const std::string& TextVocab::word(int64_t id) const {
  if (id < 0 || id >= size())
    throw std::out_of_range(fmt::format("token id {} outside the vocabulary (size {})", id, size()));
  return words[id];
}

bool Threat::fits(Modality m) const {
  auto ms = modalities();
  return std::find(ms.begin(), ms.end(), m) != ms.end();
}

Batch corrupt(const Corruption& c, const Batch& clean, const torch::Tensor& index, uint64_t seed,
              const ThreatContext& ctx) {
  auto idx = index.to(torch::kCPU).contiguous();
  TORCH_CHECK(idx.dim() == 1 && idx.size(0) == clean.x.size(0), "corrupt: index must hold one entry per example");
  const auto* ids = idx.data_ptr<int64_t>();
  std::vector<torch::Tensor> draws;
  draws.reserve(idx.size(0));
  ThreatContext row_ctx = ctx;
  // The draws are host work: one copy of the batch to the host, not one device-to-host copy per example.
  const Batch host = clean.to(torch::kCPU);
  for (int64_t b = 0; b < idx.size(0); ++b) {
    // host: one generator per test example, so every model and device sees the same corrupted set
    auto gen = make_generator(splitmix64(seed + static_cast<uint64_t>(ids[b])));
    Batch one = host.rows(torch::tensor({b}, torch::kLong));  // host: rows of the host copy
    row_ctx.example = ids[b];
    auto d = c.draw(one, row_ctx, gen);
    if (!d.defined()) break;  // deterministic corruption: no draws at all
    draws.push_back(d);
  }
  torch::Tensor stacked;
  if (!draws.empty()) stacked = torch::stack(draws).to(clean.x.device());
  return c.apply(clean, stacked, ctx);
}

std::unique_ptr<Threat> make_threat(const Config& cfg) {
  auto name = cfg.require<std::string>("name");
  auto& attacks = Registry<Attack>::get();
  auto& corruptions = Registry<Corruption>::get();
  std::unique_ptr<Threat> t;
  if (attacks.contains(name)) {
    t = attacks.make(cfg);
  } else if (corruptions.contains(name)) {
    t = corruptions.make(cfg);
  } else {
    auto known = threat_keys();
    throw ConfigError(cfg.where("name"), fmt::format("unknown threat '{}' (known attacks and corruptions: {}){}", name,
                                                     fmt::join(known, ", "), did_you_mean(name, known)));
  }
  cfg.reject_unread_keys();
  return t;
}

std::vector<std::string> threat_keys() {
  auto out = Registry<Attack>::get().keys();
  for (const auto& k : Registry<Corruption>::get().keys()) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

std::string param_number(double v) { return fmt::format("{}", v); }

}  // namespace lrb
