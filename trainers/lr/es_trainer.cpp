// es: OpenAI evolution strategies (Salimans et al. 2017) over all parameters jointly, as the paper's ES
// baseline (docs/PAPER.md §6): antithetic pairs θ ± σξ, centred-rank fitness shaping, and no LR variance
// reduction. The gradient g = Σ_p u_p ξ_p / (P σ) goes into .grad(), so the same optimizer applies it.
// Each population member is a different network, so members run one after another (each over the whole
// batch); ξ_i is addressable (noise.h: member pair i of the step's key), regenerated instead of stored, so
// memory stays O(#parameters) and the ranks of a scaled-out run each evaluate a contiguous share of the pairs.
#include <fmt/format.h>
#include <torch/torch.h>

#include <limits>

#include "core/errors.h"
#include "core/registry.h"
#include "trainers/lr/engine.h"
#include "trainers/lr/lr_trainer.h"
#include "trainers/lr/noise.h"

namespace lrb::lr {
namespace {

struct EsOptions {
  double sigma = 0.01;
  int64_t population = 0;  // 0: the forward passes of one LR-WL step (Σ copies of its preset), so the budgets match
  std::string fitness = "centered-rank";
  static EsOptions from(const Config& c) {
    EsOptions o;
    c.has("name");
    c.read("sigma", o.sigma, Range::positive());
    c.read("population", o.population, Range::between(0, 1 << 20));
    c.read_choice("fitness", o.fitness, {"centered-rank", "loss"});
    return o;
  }
};

class EsTrainer : public Trainer {
 public:
  explicit EsTrainer(EsOptions o) : o_(o) {}
  std::string key() const override { return "es"; }
  std::vector<Resolved> resolved_settings() const override { return resolved_; }

  void attach(ClassifierImpl& model) override {
    population_ = o_.population;
    resolved_.clear();
    if (population_ == 0) {
      population_ = 100;
      std::string source = "ES's default for a model without LR layers";
      if (auto* lm = dynamic_cast<LayeredModel*>(&model)) {
        auto p = lr::preset_for("lr-wl", *lm);
        population_ = 0;
        for (auto c : p.copies) population_ += c;
        source = fmt::format("population 0: the sum of the lr-wl copies of model '{}' (its preset or the rule)",
                             model.key());
      }
      resolved_.push_back({"population", {std::to_string(population_)}, source});
    }
    population_ = std::max<int64_t>(2, (population_ + 1) / 2 * 2);  // antithetic pairs
    attached_ = true;
  }

  StepStats estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator& gen) override {
    if (!attached_) attach(model);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> params;
    for (auto& p : model.parameters())
      if (p.requires_grad()) params.push_back(p);
    int64_t dim = 0;
    std::vector<torch::Tensor> original;
    for (auto& p : params) {
      dim += p.numel();
      original.push_back(p.detach().clone());
    }
    auto loss_of = [&](StepStats* st) {
      auto logits = batch.select(model.forward(batch));
      auto y = batch.targets();
      if (st) st->correct = logits.argmax(1).eq(y).sum().item<int64_t>();
      return torch::nn::functional::cross_entropy(logits, y).item<double>();
    };
    auto set_params = [&](const torch::Tensor* xi, double scale) {
      int64_t off = 0;
      for (size_t k = 0; k < params.size(); ++k) {
        const int64_t n = params[k].numel();
        params[k].copy_(original[k]);
        if (xi) params[k].add_(xi->narrow(0, off, n).view_as(params[k]), scale);
        off += n;
      }
    };
    StepStats st;
    st.loss = loss_of(&st);
    st.count = batch.size();

    // One key per step from the run's generator; ξ_i is member pair i of that key's stream.
    const NoiseSource xi(Source::kMC, dim, layer_key(draw_key(gen), 0), 1, params.front().options());
    const int64_t pairs = population_ / 2;
    auto& team = collective();
    const int64_t lo = pairs * team.rank() / team.world(), hi = pairs * (team.rank() + 1) / team.world();
    auto opts = params.front().options();
    // Every rank fills its members' losses; the sum over ranks is the whole population's (ranks need all of
    // them: the fitness shaping ranks the population).
    // host: each member's loss is read on the host (one read per member pass), then ranked
    auto losses = torch::zeros({population_}, torch::TensorOptions().dtype(torch::kDouble));
    auto* loss = losses.data_ptr<double>();
    for (int64_t i = lo; i < hi; ++i) {
      auto x = xi.per_copy(i, 1).view({dim});
      set_params(&x, o_.sigma);
      loss[2 * i] = loss_of(nullptr);
      set_params(&x, -o_.sigma);
      loss[2 * i + 1] = loss_of(nullptr);
    }
    set_params(nullptr, 0);
    if (team.world() > 1) {
      std::vector<torch::Tensor> t{losses};
      team.all_reduce_sum(t);
    }
    auto u = shape(std::vector<double>(loss, loss + population_));
    auto g = torch::zeros({dim}, opts);
    for (int64_t i = lo; i < hi; ++i) g.add_(xi.per_copy(i, 1).view({dim}), u[2 * i] - u[2 * i + 1]);
    if (team.world() > 1) {
      std::vector<torch::Tensor> t{g};
      team.all_reduce_sum(t);
    }
    g.div_(static_cast<double>(population_) * o_.sigma);
    int64_t off = 0;
    for (auto& p : params) {
      set_grad(p, g.narrow(0, off, p.numel()).view_as(p));
      off += p.numel();
    }
    st.forward_rows = (population_ + 1) * batch.size();
    return st;
  }

 private:
  // Utilities: centred ranks in [-0.5, 0.5] (higher loss -> higher utility, so g points uphill in loss
  // as a gradient should), or the raw losses minus their mean.
  std::vector<double> shape(const std::vector<double>& loss) const {
    const auto n = static_cast<int64_t>(loss.size());
    std::vector<double> u(n);
    if (o_.fitness == "loss") {
      double mean = 0;
      for (double v : loss) mean += v / n;
      for (int64_t i = 0; i < n; ++i) u[i] = loss[i] - mean;
      return u;
    }
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return loss[a] < loss[b]; });
    for (int64_t r = 0; r < n; ++r) u[order[r]] = static_cast<double>(r) / (n - 1) - 0.5;
    return u;
  }

  EsOptions o_;
  int64_t population_ = 0;
  std::vector<Resolved> resolved_;
  bool attached_ = false;
};

}  // namespace

LRB_REGISTER(Trainer, "es", "OpenAI-ES over all parameters: antithetic pairs, centred-rank fitness (sigma, population)",
             [](const Config& c) -> Trainer::Ptr { return std::make_unique<EsTrainer>(EsOptions::from(c)); });

}  // namespace lrb::lr
