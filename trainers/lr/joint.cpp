// No layer-wise injection (ablation): every perturbed layer gets its noise in the same pass, so each
// row's layer inputs differ and the weight-gradient op runs on all rows. The model routes its layer
// calls through LayeredModel::layer_hook, which injects the noise here.
#include <torch/torch.h>

#include <memory>

#include "trainers/lr/engine.h"
#include "trainers/lr/engine_detail.h"

namespace lrb::lr {

using namespace detail;

namespace {
struct HookGuard {
  LayeredModel& m;
  ~HookGuard() { m.layer_hook = nullptr; }
};
struct Record {
  torch::Tensor x, like, noise;  // layer input rows, clean output (shape only), first-half σ-noise
};
}  // namespace

void Engine::joint_chunk(std::vector<Sums>& sums, const CleanPass& c, const Chunk& k,
                         std::vector<NoiseStream*>& noise) {
  const bool anti = settings_.antithetic;
  const int64_t m = k.copies, bc = k.b1 - k.b0, R = m * bc, h = anti ? m / 2 : m, rh = h * bc;
  std::vector<Record> rec(layers_.size());
  model_.layer_hook = [&](int l, const torch::Tensor& x) -> torch::Tensor {
    auto z = layers_[l](x);
    const auto& set = settings_.layers[l];
    if (set.mode == Mode::kNone) return z;
    auto zp = to_phys(z);
    const int64_t S = zp.size(1), C = zp.size(2);
    auto sig = sigma_[l].to(zp.options());
    auto mirror = [&](const torch::Tensor& t) { return anti ? torch::cat({t, -t}) : t; };
    torch::Tensor noise_part;  // [R, S, C]
    if (set.mode == Mode::kLogit) {
      rec[l] = {x, z, noise[l]->next(rh).view({rh, S, C}).mul_(sig)};
      noise_part = mirror(rec[l].noise);
    } else {
      auto U = unfold_rows(layers_[l], x);  // [R, P, K+1]
      const int64_t K1 = U.size(2);
      if (set.weight_per_row) {
        rec[l] = {x, z, noise[l]->next(rh).view({rh, K1, C}).mul_(sig)};
        noise_part = rowwise_mm(U, mirror(rec[l].noise));
      } else {
        rec[l] = {x, z, noise[l]->next(h).view({h, K1, C}).mul_(sig)};
        noise_part = at::bmm(U.view({m, bc * S, K1}), mirror(rec[l].noise)).view({R, S, C});
      }
    }
    return from_phys(zp.add_(noise_part), z);
  };
  HookGuard guard{model_};
  auto tr = bc == c.batch() ? c.trace : slice_trace(c.trace, k.b0, k.b1);
  auto z0 = model_.layer_hook(0, tile_rows(tr.inputs[0], m));
  auto logits = model_.forward_from(0, z0, tr, m);
  rows_ += R;
  auto w = row_ce(logits, c.y.slice(0, k.b0, k.b1).repeat({m})).sub_(c.baseline.slice(0, k.b0, k.b1).repeat({m}));
  auto lo = w.narrow(0, 0, rh), hi = anti ? w.narrow(0, rh, rh) : w;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& set = settings_.layers[l];
    if (set.mode == Mode::kNone) continue;
    auto& s = sums[l];
    auto sig2 = sigma_[l].to(w.options()).square();
    const auto& E = rec[l].noise;
    const int64_t D = E.size(1);
    auto col = [&](const torch::Tensor& v) { return v.view({-1, 1, 1}); };
    torch::Tensor sv;  // σ-gradient coefficient of each noise row
    if (set.mode == Mode::kLogit) {
      // Rows see different inputs here, so both halves enter the weight-gradient op separately.
      auto G = anti ? torch::cat({E * col(lo), E * col(-hi)}) : E * col(w);
      auto [gw, gb] = weight_grad(layers_[l], from_phys(G, rec[l].like).contiguous(), rec[l].x);
      s.w.add_(gw);
      if (gb.defined()) s.b.add_(gb);
      sv = anti ? lo + hi : w;
    } else if (set.weight_per_row) {
      s.kc.add_((E * col(anti ? lo - hi : w)).sum(0));
      sv = anti ? lo + hi : w;
    } else {
      auto per_copy = w.view({m, bc}).sum(1);
      auto a = anti ? per_copy.narrow(0, 0, h) - per_copy.narrow(0, h, h) : per_copy;
      s.kc.add_((E * col(a)).sum(0));
      sv = anti ? per_copy.narrow(0, 0, h) + per_copy.narrow(0, h, h) : per_copy;
    }
    if (settings_.sigma_grad)
      s.s.add_((E.square() * col(sv)).sum(at::IntArrayRef{0, 1}).div(sig2).sub_(sv.sum() * D));
    s.rows += R;
  }
}

std::vector<std::vector<LayerGrad>> Engine::joint(const CleanPass& c, const std::vector<int64_t>& copies_at,
                                                  at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto opts = c.loss.options();
  std::vector<Sums> sums(layers_.size());
  std::vector<std::unique_ptr<NoiseStream>> owned;
  std::vector<NoiseStream*> noise(layers_.size(), nullptr);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const auto& set = settings_.layers[l];
    if (set.mode == Mode::kNone) continue;
    const int64_t C = c.z[l].size(1);
    int64_t dim = c.z[l][0].numel();
    if (set.mode == Mode::kWeight) dim = (layers_[l].weight()[0].numel() + (layers_[l].bias().defined() ? 1 : 0)) * C;
    owned.push_back(std::make_unique<NoiseStream>(settings_.source, dim, gen, opts));
    noise[l] = owned.back().get();
    auto& s = sums[l];
    if (set.mode == Mode::kLogit) {
      s.w = torch::zeros_like(layers_[l].weight());
      if (layers_[l].bias().defined()) s.b = torch::zeros_like(layers_[l].bias());
    } else {
      s.kc = torch::zeros({dim / C, C}, opts);
    }
    if (settings_.sigma_grad) s.s = torch::zeros({C}, opts);
  }
  // Weight-noise layers unfold every row's input, and their kernels count per row or per copy.
  int64_t bytes = row_bytes(c, 0), copy_bytes = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (settings_.layers[l].mode != Mode::kWeight) continue;
    const int64_t kernel = sums[l].kc.numel() * static_cast<int64_t>(sizeof(float));
    (settings_.layers[l].weight_per_row ? bytes : copy_bytes) += kernel;
    bytes += kernel / c.z[l].size(1) * (c.z[l][0].numel() / c.z[l].size(1));  // unfolded input: (K+1) x positions
  }
  std::vector<std::vector<LayerGrad>> out;
  int64_t done = 0;
  for (int64_t target : copies_at) {
    target = round_copies(target);
    TORCH_CHECK(target >= done, "LR engine: copies_at must be increasing (got ", target, " after ", done, ")");
    for (const auto& k : plan_chunks(done, target, c.batch(), bytes, copy_bytes)) joint_chunk(sums, c, k, noise);
    done = target;
    std::vector<LayerGrad> grads(layers_.size());
    for (size_t l = 0; l < layers_.size(); ++l)
      if (settings_.layers[l].mode != Mode::kNone) grads[l] = finalize(sums[l], static_cast<int>(l), c);
    out.push_back(std::move(grads));
  }
  return out;
}

}  // namespace lrb::lr
