#include "trainers/lr/gradcheck.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/errors.h"
#include "trainers/lr/lr_trainer.h"

namespace lrb::lr {

GradcheckSpec GradcheckSpec::from(const Config& c) {
  GradcheckSpec s;
  c.read("copies", s.copies, Range::at_least(1));
  c.read("repeats", s.repeats, Range::at_least(1));
  c.read("batch_size", s.batch_size, Range::at_least(1));
  c.read("panel", s.panel);
  std::sort(s.copies.begin(), s.copies.end());
  s.copies.erase(std::unique(s.copies.begin(), s.copies.end()), s.copies.end());
  return s;
}

namespace {

torch::Tensor flat(const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::cat({w.flatten(), b.flatten()}) : w.flatten();
}

// Exact gradient of the batch-mean clean loss (autograd is the reference here, nothing else), through
// forward_copies after the engine's clean pass: a model with dropout in training mode then reuses that pass's
// masks, so the reference is the gradient of the very network the estimate perturbs.
std::vector<torch::Tensor> bp_gradients(ClassifierImpl& model, LayeredModel& lm, const Batch& batch) {
  torch::AutoGradMode on(true);
  auto layers = lm.layers();
  std::vector<torch::Tensor> saved;
  for (auto& p : model.parameters()) saved.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  model.zero_grad();
  auto loss = torch::nn::functional::cross_entropy(batch.select(lm.forward_copies(batch, 1)), batch.targets());
  loss.backward();
  std::vector<torch::Tensor> out;
  for (const auto& l : layers)
    out.push_back(flat(l.weight().grad(), l.bias().defined() ? l.bias().grad() : torch::Tensor()).clone());
  size_t i = 0;
  for (auto& p : model.parameters()) set_grad(p, saved[i++]);
  return out;
}

}  // namespace

CsvTable gradcheck(ClassifierImpl& model, Trainer& trainer, const Batch& batch, const GradcheckSpec& spec,
                   at::Generator& gen) {
  auto* lr = dynamic_cast<LrTrainer*>(&trainer);
  if (!lr)
    throw ConfigError(fmt::format("gradcheck probes the LR estimators: use trainer=lr-l or trainer=lr-wl (got '{}')",
                                  trainer.key()));
  auto& lm = layered(model, trainer.key());
  auto layers = lm.layers();
  auto settings = lr->settings();
  auto sigmas = lr->sigmas();
  settings.sigma_grad = false;

  CsvTable table({"panel", "layer", "mode", "sigma", "batch", "copies", "repeat", "cosine", "rel_error"});
  torch::NoGradGuard no_grad;
  Engine engine(lm, settings, sigmas);
  auto clean = engine.clean_pass(batch);
  auto exact = bp_gradients(model, lm, batch);
  auto add_row = [&](size_t l, int64_t copies, int64_t repeat, const LayerGrad& g) {
    auto est = flat(g.weight, g.bias).to(torch::kDouble);
    auto ref = exact[l].to(torch::kDouble);
    const double cosine = (est.dot(ref) / (est.norm() * ref.norm()).clamp_min(1e-300)).item<double>();
    const double rel = ((est - ref).norm() / ref.norm().clamp_min(1e-300)).item<double>();
    table.add({spec.panel, layers[l].name, mode_name(settings.layers[l].mode),
               csv_number(sigmas[l].mean().item<double>(), 4), std::to_string(clean.batch()), std::to_string(copies),
               std::to_string(repeat), csv_number(cosine), csv_number(rel)});
  };
  for (int64_t r = 0; r < spec.repeats; ++r) {
    if (settings.layerwise) {
      for (size_t l = 0; l < layers.size(); ++l) {
        if (settings.layers[l].mode == Mode::kNone) continue;
        auto grads = engine.layer(clean, static_cast<int>(l), spec.copies, gen);
        for (size_t k = 0; k < spec.copies.size(); ++k) add_row(l, spec.copies[k], r, grads[k]);
      }
    } else {
      auto grads = engine.joint(clean, spec.copies, gen);
      for (size_t k = 0; k < spec.copies.size(); ++k)
        for (size_t l = 0; l < layers.size(); ++l)
          if (settings.layers[l].mode != Mode::kNone) add_row(l, spec.copies[k], r, grads[k][l]);
    }
  }
  return table;
}

}  // namespace lrb::lr
