// The Square attack engine; see square.h for the source and the deviations. Random draws are taken in the
// reference's order and shapes (stripes [B,c,1,w], then per iteration vh, vw and a [c,1,1] sign), so with
// the same generator state the result is the reference's (tests/unit/threats/autoattack_golden_test.cpp).
#include "threats/attacks/square.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <limits>

#include "threats/attacks/linf.h"
#include "threats/threat.h"

namespace lrb::square {

void Options::read(const Config& c) {
  c.read("eps", eps, Range::between(0.0, 1.0));
  c.read("n_queries", n_queries, Range::between(1, 10000000));
  c.read("p_init", p_init, Range::between(0.0, 1.0));
  c.read("n_restarts", n_restarts, Range::between(1, 1000));
  c.read("rescale_schedule", rescale_schedule);
}

std::string Options::params() const {
  return "eps=" + param_number(eps) + ";n_queries=" + std::to_string(n_queries) + ";p_init=" + param_number(p_init) +
         ";n_restarts=" + std::to_string(n_restarts) + ";rescale_schedule=" + (rescale_schedule ? "true" : "false");
}

double p_selection(const Options& o, int64_t it) {
  if (o.rescale_schedule) it = static_cast<int64_t>(static_cast<double>(it) / o.n_queries * 10000);
  const double p = o.p_init;
  if (10 < it && it <= 50) return p / 2;
  if (50 < it && it <= 200) return p / 4;
  if (200 < it && it <= 500) return p / 8;
  if (500 < it && it <= 1000) return p / 16;
  if (1000 < it && it <= 2000) return p / 32;
  if (2000 < it && it <= 4000) return p / 64;
  if (4000 < it && it <= 6000) return p / 128;
  if (6000 < it && it <= 8000) return p / 256;
  if (8000 < it) return p / 512;
  return p;
}

namespace {

// random_choice(shape): sign(2 U - 1).
torch::Tensor random_choice(at::IntArrayRef shape, at::Generator& gen, const torch::TensorOptions& opt) {
  return torch::sign(2 * at::rand(shape, gen, opt) - 1);
}

// random_int(low, high): (low + (high - low) * U).long(), one draw.
int64_t random_int(int64_t low, int64_t high, at::Generator& gen, const torch::TensorOptions& opt) {
  return (low + (high - low) * at::rand({1}, gen, opt)).to(torch::kLong).item<int64_t>();
}

struct Margin {
  torch::Tensor margin, loss;  // loss == margin for the 'margin' loss
};

// margin_and_loss(x, y), untargeted margin loss: logit of y minus the largest other logit.
Margin margin_of(Victim& victim, const Batch& like, const torch::Tensor& x, const torch::Tensor& y) {
  auto logits = victim.logits(linf::with_x(like, x)).clone();
  auto u = torch::arange(x.size(0), y.options());
  auto y_corr = logits.index({u, y}).clone();
  logits.index_put_({u, y}, -std::numeric_limits<double>::infinity());
  auto y_others = std::get<0>(logits.max(-1));
  auto m = y_corr - y_others;
  return {m, m};
}

struct Single {
  torch::Tensor n_queries, x_best;
};

Single attack_single_run(Victim& victim, const Batch& clean, const Options& o, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& x = clean.x;
  const auto& y = clean.y;
  const auto opt = x.options();
  const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t n_features = c * h * w, n_ex_total = x.size(0);
  const double eps = o.eps;

  auto x_best = torch::clamp(x + eps * random_choice({x.size(0), c, 1, w}, gen, opt), 0., 1.);
  auto [margin_min, loss_min] = margin_of(victim, clean, x_best, y);
  auto n_queries = torch::ones({x.size(0)}, opt);
  if (margin_min.lt(0.0).all().item<bool>()) return {n_queries, x_best};

  for (int64_t i_iter = 0; i_iter < o.n_queries; ++i_iter) {
    auto idx_to_fool = margin_min.gt(0.0).nonzero().squeeze(1);
    if (idx_to_fool.numel() == 0) break;  // every margin <= 0 (the reference ends this iteration the same way)
    auto x_curr = x.index({idx_to_fool});
    auto x_best_curr = x_best.index({idx_to_fool});
    auto y_curr = y.index({idx_to_fool});
    auto margin_min_curr = margin_min.index({idx_to_fool});
    auto loss_min_curr = loss_min.index({idx_to_fool});
    const double p = p_selection(o, i_iter);
    int64_t s = std::max<int64_t>(static_cast<int64_t>(std::nearbyint(std::sqrt(p * n_features / c))), 1);
    s = std::min(s, std::min(h, w));
    const int64_t vh = random_int(0, h - s, gen, opt);
    const int64_t vw = random_int(0, w - s, gen, opt);
    auto new_deltas = torch::zeros({c, h, w}, opt);
    using torch::indexing::Slice;
    new_deltas.index_put_({Slice(), Slice(vh, vh + s), Slice(vw, vw + s)}, 2. * eps * random_choice({c, 1, 1}, gen, opt));
    auto x_new = x_best_curr + new_deltas;
    x_new = torch::min(torch::max(x_new, x_curr - eps), x_curr + eps);
    x_new = torch::clamp(x_new, 0., 1.);
    auto [margin, loss] = margin_of(victim, clean, x_new, y_curr);

    auto idx_improved = loss.lt(loss_min_curr).to(opt.dtype());
    loss_min.index_put_({idx_to_fool}, idx_improved * loss + (1. - idx_improved) * loss_min_curr);
    auto idx_miscl = margin.le(0.).to(opt.dtype());
    idx_improved = torch::max(idx_improved, idx_miscl);
    margin_min.index_put_({idx_to_fool}, idx_improved * margin + (1. - idx_improved) * margin_min_curr);
    std::vector<int64_t> bshape(x.dim(), 1);
    bshape[0] = -1;
    idx_improved = idx_improved.reshape(bshape);
    x_best.index_put_({idx_to_fool}, idx_improved * x_new + (1. - idx_improved) * x_best_curr);
    n_queries.index_put_({idx_to_fool}, n_queries.index({idx_to_fool}) + 1.);
    if (margin_min.le(0.).sum().item<int64_t>() == n_ex_total) break;
  }
  return {n_queries, x_best};
}

}  // namespace

Batch perturb(Victim& victim, const Batch& clean, const Options& o, at::Generator& gen, torch::Tensor* queries_out) {
  torch::NoGradGuard no_grad;
  auto adv = clean.x.detach().clone();
  auto acc = std::get<1>(victim.logits(clean).max(1)).eq(clean.y);
  auto queries = torch::zeros({clean.x.size(0)}, clean.x.options());
  for (int64_t r = 0; r < o.n_restarts; ++r) {
    torch::Tensor n_queries;
    auto ind = linf::attack_robust_rows(clean, adv, acc, [&](const Batch& sub) {
      auto run = attack_single_run(victim, sub, o, gen);
      n_queries = run.n_queries;
      auto fooled = std::get<1>(victim.logits(linf::with_x(sub, run.x_best)).max(1)).ne(sub.y);
      return std::pair{run.x_best, fooled};
    });
    if (ind.numel() == 0) break;
    queries.index_put_({ind}, n_queries);
  }
  if (queries_out) *queries_out = queries;
  return linf::with_x(clean, adv);
}

}  // namespace lrb::square
