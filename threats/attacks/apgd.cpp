// The APGD engine; see apgd.h for the source and the deviations. The operations follow the reference's in
// order and form (x + eps * ones * t / max|t|, max/min then clamp, (1 - a) * grad2, ...): float results depend
// on operation order, and the golden test compares the adversarial images with the reference's.
#include "threats/attacks/apgd.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/errors.h"
#include "threats/attacks/linf.h"
#include "threats/threat.h"

namespace lrb::apgd {

void Options::read(const Config& c, bool targeted) {
  c.read("eps", eps, Range::between(0.0, 1.0));
  c.read("n_iter", n_iter, Range::between(1, 100000));
  c.read("n_restarts", n_restarts, Range::between(1, 1000));
  c.read("rho", rho, Range::between(0.0, 1.0));
  c.read("early_stop", early_stop);
  if (targeted) c.read("n_target_classes", n_target_classes, Range::between(1, 1000));
}

std::string Options::params(bool targeted) const {
  std::string s = "eps=" + param_number(eps) + ";n_iter=" + std::to_string(n_iter) +
                  ";n_restarts=" + std::to_string(n_restarts) + ";rho=" + param_number(rho) +
                  ";early_stop=" + (early_stop ? "true" : "false");
  if (targeted) s += ";n_target_classes=" + std::to_string(n_target_classes);
  return s;
}

namespace {

using torch::indexing::Slice;

torch::Tensor rows_of(const torch::Tensor& t, const torch::Tensor& y) {
  auto u = torch::arange(t.size(0), y.options());
  return t.index({u, y});  // x[u, y]: the reference's advanced indexing, so its backward too
}

// A [B] per-example scalar shaped to broadcast over x ([B,1,1,1] for images).
std::vector<int64_t> per_example_shape(const torch::Tensor& x) {
  std::vector<int64_t> s(x.dim(), 1);
  s[0] = x.size(0);
  return s;
}

// check_oscillation(x, j, k, y5, k3): the reference indexes x[j - counter5 - 1] with Python's negative
// wrap-around, which at the first checkpoint (j = k - 1) reads the never-written last row (zeros).
torch::Tensor check_oscillation(const torch::Tensor& loss_steps, int64_t j, int64_t k, double k3) {
  const int64_t n = loss_steps.size(0);
  auto t = torch::zeros({loss_steps.size(1)}, loss_steps.options());
  for (int64_t c = 0; c < k; ++c) {
    const int64_t a = j - c, b = j - c - 1;
    t += loss_steps[(a % n + n) % n].gt(loss_steps[(b % n + n) % n]).to(t.scalar_type());
  }
  return t.le(k * k3 * torch::ones_like(t)).to(t.scalar_type());
}

}  // namespace

torch::Tensor ce_loss(const torch::Tensor& logits, const torch::Tensor& y) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
}

torch::Tensor dlr_loss(const torch::Tensor& logits, const torch::Tensor& y) {
  auto [x_sorted, ind_sorted] = logits.sort(1);
  const int64_t k = logits.size(1);
  auto ind = ind_sorted.select(1, k - 1).eq(y).to(logits.scalar_type());
  return -(rows_of(logits, y) - x_sorted.select(1, k - 2) * ind - x_sorted.select(1, k - 1) * (1. - ind)) /
         (x_sorted.select(1, k - 1) - x_sorted.select(1, k - 3) + 1e-12);
}

torch::Tensor dlr_targeted_loss(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& y_target) {
  auto x_sorted = std::get<0>(logits.sort(1));
  const int64_t k = logits.size(1);
  return -(rows_of(logits, y) - rows_of(logits, y_target)) /
         (x_sorted.select(1, k - 1) - .5 * (x_sorted.select(1, k - 3) + x_sorted.select(1, k - 4)) + 1e-12);
}

Run single_run(Victim& victim, const Batch& clean, const RowLoss& loss, const Options& o, at::Generator& gen) {
  const auto& x = clean.x;
  const auto& y = clean.y;
  const int64_t B = x.size(0);
  const auto shape = per_example_shape(x);
  const double eps = o.eps;
  auto normalize = [&](const torch::Tensor& t) {
    auto m = std::get<0>(t.abs().view({B, -1}).max(1));
    return t / (m.view(shape) + 1e-12);
  };
  auto project = [&](const torch::Tensor& v) {
    return torch::clamp(torch::min(torch::max(v, x - eps), x + eps), 0.0, 1.0);
  };

  auto t = 2 * at::rand(x.sizes(), gen, x.options()) - 1;
  auto x_adv = x + eps * torch::ones_like(x) * normalize(t);
  x_adv = x_adv.clamp(0., 1.);
  auto x_best = x_adv.clone();
  auto x_best_adv = x_adv.clone();
  auto loss_steps = torch::zeros({o.n_iter, B}, x.options());

  torch::Tensor logits, loss_indiv;
  auto grad = victim.loss_grad(linf::with_x(clean, x_adv), [&](const torch::Tensor& z) { return loss(z, {}); },
                               &logits, &loss_indiv);
  auto grad_best = grad.clone();
  auto acc = std::get<1>(logits.max(1)).eq(y);
  auto loss_best = loss_indiv.clone();

  auto step_size = 2. * eps * torch::ones(shape, x.options());
  auto x_adv_old = x_adv.clone();
  const int64_t n_iter_2 = std::max<int64_t>(static_cast<int64_t>(0.22 * o.n_iter), 1);
  const int64_t n_iter_min = std::max<int64_t>(static_cast<int64_t>(0.06 * o.n_iter), 1);
  const int64_t size_decr = std::max<int64_t>(static_cast<int64_t>(0.03 * o.n_iter), 1);
  int64_t k = n_iter_2, counter3 = 0;
  auto loss_best_last_check = loss_best.clone();
  auto reduced_last_check = torch::ones_like(loss_best);

  for (int64_t i = 0; i < o.n_iter; ++i) {
    {
      torch::NoGradGuard no_grad;
      auto grad2 = x_adv - x_adv_old;
      x_adv_old = x_adv.clone();
      const double a = i > 0 ? 0.75 : 1.0;
      auto x_adv_1 = project(x_adv + step_size * torch::sign(grad));
      x_adv_1 = project(x_adv + (x_adv_1 - x_adv) * a + grad2 * (1 - a));
      x_adv = x_adv_1 + 0.;
    }
    torch::Tensor pred;
    // early_stop: only the rows still correct are forwarded; the others keep their state, which no longer
    // matters (a fooled row stays fooled and keeps the adversarial iterate it was fooled at).
    // Not with the noise on: a noisy verdict is not final (the next draw may classify the row right again).
    auto rows = o.early_stop && !victim.noisy() ? acc.nonzero().squeeze(1) : torch::Tensor();
    if (rows.defined() && rows.numel() == 0) break;
    if (rows.defined() && rows.numel() < B) {
      Batch active = clean.rows(rows);
      torch::Tensor logits_r, loss_r;
      auto g = victim.loss_grad(linf::with_x(active, x_adv.index_select(0, rows)),
                                [&](const torch::Tensor& z) { return loss(z, rows); }, &logits_r, &loss_r);
      grad = grad.index_copy(0, rows, g);
      loss_indiv = loss_indiv.index_copy(0, rows, loss_r);
      pred = torch::ones_like(acc).index_copy(0, rows, std::get<1>(logits_r.max(1)).eq(active.y));
    } else {
      grad = victim.loss_grad(linf::with_x(clean, x_adv), [&](const torch::Tensor& z) { return loss(z, {}); },
                              &logits, &loss_indiv);
      pred = std::get<1>(logits.max(1)).eq(y);
    }
    acc = torch::min(acc, pred);
    x_best_adv = torch::where(pred.logical_not().view(shape), x_adv, x_best_adv);

    torch::NoGradGuard no_grad;
    auto y1 = loss_indiv.clone();
    loss_steps[i] = y1 + 0;
    auto improved = y1.gt(loss_best);
    x_best = torch::where(improved.view(shape), x_adv, x_best);
    grad_best = torch::where(improved.view(shape), grad, grad_best);
    loss_best = torch::where(improved, y1, loss_best);

    if (++counter3 == k) {
      auto fl_oscillation = check_oscillation(loss_steps, i, k, o.rho);
      auto fl_reduce_no_impr = (1. - reduced_last_check) * loss_best_last_check.ge(loss_best).to(loss_best.scalar_type());
      fl_oscillation = torch::max(fl_oscillation, fl_reduce_no_impr);
      reduced_last_check = fl_oscillation.clone();
      loss_best_last_check = loss_best.clone();
      if (fl_oscillation.sum().item<double>() > 0) {
        auto reduce = fl_oscillation.gt(0);
        step_size = torch::where(reduce.view(shape), step_size / 2.0, step_size);
        x_adv = torch::where(reduce.view(shape), x_best, x_adv);
        grad = torch::where(reduce.view(shape), grad_best, grad);
      }
      k = std::max(k - size_decr, n_iter_min);
      counter3 = 0;
    }
  }
  return {x_best_adv, acc.logical_not()};
}

torch::Tensor still_correct(Victim& victim, const Batch& clean, const torch::Tensor& x) {
  return std::get<1>(victim.logits(linf::with_x(clean, x)).max(1)).eq(clean.y);
}

Batch untargeted(Victim& victim, const Batch& clean, const std::string& loss, const Options& o, at::Generator& gen) {
  auto adv = clean.x.detach().clone();
  auto acc = still_correct(victim, clean, clean.x);
  for (int64_t r = 0; r < o.n_restarts; ++r)
    linf::attack_robust_rows(clean, adv, acc, [&](const Batch& sub) {
      RowLoss f = [&](const torch::Tensor& z, const torch::Tensor& rows) {
        auto y = rows.defined() ? sub.y.index_select(0, rows) : sub.y;
        return loss == "dlr" ? dlr_loss(z, y) : ce_loss(z, y);
      };
      return single_run(victim, sub, f, o, gen);
    });
  return linf::with_x(clean, adv);
}

Batch targeted(Victim& victim, const Batch& clean, const Options& o, at::Generator& gen) {
  auto adv = clean.x.detach().clone();
  auto logits = victim.logits(clean);
  auto acc = std::get<1>(logits.max(1)).eq(clean.y);
  const int64_t k = logits.size(1);
  if (k < std::max<int64_t>(4, o.n_target_classes + 1))  // check() refuses this before any work in an eval
    throw ConfigError("apgd-t: the targeted DLR loss with n_target_classes " + std::to_string(o.n_target_classes) +
                      " needs at least " + std::to_string(std::max<int64_t>(4, o.n_target_classes + 1)) +
                      " classes, the model has " + std::to_string(k) + "; " +
                      (k >= 4 ? "set threat.n_target_classes to at most " + std::to_string(k - 1)
                              : std::string("use apgd-ce (the targeted DLR loss needs 4 classes)")));
  for (int64_t target_class = 2; target_class < o.n_target_classes + 2; ++target_class)
    for (int64_t r = 0; r < o.n_restarts; ++r)
      linf::attack_robust_rows(clean, adv, acc, [&](const Batch& sub) {
        auto output = victim.logits(sub);
        auto y_target = std::get<1>(output.sort(1)).select(1, output.size(1) - target_class);
        RowLoss f = [&](const torch::Tensor& z, const torch::Tensor& rows) {
          return rows.defined() ? dlr_targeted_loss(z, sub.y.index_select(0, rows), y_target.index_select(0, rows))
                                : dlr_targeted_loss(z, sub.y, y_target);
        };
        return single_run(victim, sub, f, o, gen);
      });
  return linf::with_x(clean, adv);
}

}  // namespace lrb::apgd
