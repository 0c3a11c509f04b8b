#include "models/recurrent.h"

#include <torch/torch.h>

namespace lrb {

RecurrentOptions RecurrentOptions::from(const Config& c) {
  RecurrentOptions o;
  c.has("name");
  c.read("embedding_dim", o.embedding_dim, Range::between(1, 4096));
  c.read("hidden", o.hidden, Range::between(1, 4096));
  c.read("freeze_embedding", o.freeze_embedding);
  c.read("lr_truncate", o.lr_truncate, Range::at_least(0));
  return o;
}

RecurrentClassifier::RecurrentClassifier(const RecurrentOptions& o, const ModelContext& ctx, int64_t gates,
                                         std::string key)
    : o_(o), key_(std::move(key)) {
  TORCH_CHECK(ctx.input.vocab_size > 0, key_, " expects token ids (a text dataset such as ag-news)");
  emb_ = register_module(
      "embedding",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(ctx.input.vocab_size, o.embedding_dim).padding_idx(ctx.input.pad_index)));
  ih_ = register_module("ih", torch::nn::Linear(o.embedding_dim, gates * o.hidden));
  hh_ = register_module("hh", torch::nn::Linear(o.hidden, gates * o.hidden));
  out_ = register_module("out", torch::nn::Linear(o.hidden, ctx.num_classes));
  // PyTorch's recurrent layers draw every weight and bias from U(-1/√hidden, 1/√hidden); nn::Linear's
  // default would scale by the input width instead.
  const double k = 1.0 / std::sqrt(static_cast<double>(o.hidden));
  torch::NoGradGuard no_grad;
  for (auto* l : {&ih_, &hh_}) {
    (*l)->weight.uniform_(-k, k);
    (*l)->bias.uniform_(-k, k);
  }
  if (o.freeze_embedding) {
    emb_->weight.set_requires_grad(false);
    site_ih_ = 0, site_hh_ = 1, site_out_ = 2;
  } else {
    site_emb_ = 0, site_ih_ = 1, site_hh_ = 2, site_out_ = 3;
  }
}

std::vector<PerturbableLayer> RecurrentClassifier::layers() {
  std::vector<PerturbableLayer> out;
  if (site_emb_ >= 0) out.push_back({"embedding", nullptr, nullptr, emb_});
  out.push_back({"ih", ih_, nullptr});
  out.push_back({"hh", hh_, nullptr});
  out.push_back({"out", out_, nullptr});
  return out;
}

torch::Tensor RecurrentClassifier::forward_copies(const Batch& b, int64_t copies) {
  TORCH_CHECK(b.x.dim() == 2 && b.x.scalar_type() == torch::kLong && b.lengths.defined() &&
                  b.lengths.size(0) == b.x.size(0),
              key_, " expects token ids [B,T] (int64) with lengths [B]; got x of shape ", b.x.sizes());
  TORCH_CHECK(b.x.size(0) > 0 && b.x.size(1) > 0, key_, ": empty batch or zero-length token rows");
  // One device-to-host read per forward pass, not two.
  const auto range = torch::stack({b.lengths.min(), b.lengths.max()}).to(torch::kCPU);
  const int64_t shortest = range[0].item<int64_t>(), longest = range[1].item<int64_t>();
  // A row with length 0 (or beyond its ids) would silently be classified from the zero state.
  TORCH_CHECK(shortest >= 1 && longest <= b.x.size(1), key_, ": every length must be in [1, ", b.x.size(1),
              "] (the row's token count); got lengths in [", shortest, ", ", longest, "]");
  // Steps beyond the longest true length only carry padding, which never reaches the kept state.
  const int64_t steps = longest;
  auto ids = tile_rows(b.x.narrow(1, 0, steps), copies);
  auto len = tile_rows(b.lengths, copies);
  const int64_t R = ids.size(0);
  auto opts = out_->weight.options();
  State s{torch::zeros({R, o_.hidden}, opts), has_cell_state() ? torch::zeros({R, o_.hidden}, opts) : torch::Tensor()};
  auto last = s.h;
  const int64_t K = o_.lr_truncate;
  for (int64_t t = 0; t < steps; ++t) {
    auto tok = ids.select(1, t).contiguous();
    // Step t reaches the kept state only in rows whose true length exceeds t; the others are padding. With
    // lr_truncate K, only a row's last K true steps (t >= length - K) carry LR noise. Undefined: every row.
    torch::Tensor live;
    if (K > 0 && t < longest - K) live = len.gt(t).logical_and(len.le(t + K));
    else if (t >= shortest) live = len.gt(t);
    auto x = site_emb_ >= 0 ? call_layer(site_emb_, emb_, tok, live) : emb_(tok);
    s = step(call_layer(site_ih_, ih_, x, live), call_layer(site_hh_, hh_, s.h, live), s);
    last = torch::where(len.eq(t + 1).unsqueeze(1), s.h, last);
  }
  return call_layer(site_out_, out_, last);
}

std::optional<LrPreset> RecurrentClassifier::lr_preset(const std::string&) const {
  const size_t n = site_emb_ >= 0 ? 4 : 3;
  return LrPreset{std::vector<std::string>(n, "logit"), std::vector<int64_t>(n, 100), std::vector<double>(n, 0.1)};
}

}  // namespace lrb
