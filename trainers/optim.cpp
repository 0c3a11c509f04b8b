#include "trainers/optim.h"

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <type_traits>

namespace lrb {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& s, std::vector<torch::Tensor> params) {
  if (s.name == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay).nesterov(s.nesterov));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(s.lr).weight_decay(s.weight_decay));
}

double scheduled_lr(const TrainSpec& spec, int64_t epoch) {
  const auto& sch = spec.scheduler;
  if (sch.name == "step") return spec.optimizer.lr * std::pow(sch.gamma, static_cast<double>(epoch / sch.step_size));
  return spec.optimizer.lr;
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

}  // namespace lrb

namespace lrb {

namespace {

template <class Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;  // LibTorch 1.x keys state by the printed TensorImpl address
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return p.unsafeGetTensorImpl();  // LibTorch 2.x keys by the address itself
  }
}

template <class Opt>
using StateKey = typename std::decay_t<decltype(std::declval<Opt&>().state())>::key_type;

std::vector<torch::Tensor> all_params(const torch::optim::Optimizer& opt) {
  std::vector<torch::Tensor> out;
  for (const auto& g : opt.param_groups())
    for (const auto& p : g.params()) out.push_back(p);
  return out;
}

}  // namespace

void save_optimizer(const torch::optim::Optimizer& opt, torch::serialize::OutputArchive& a) {
  using Key = StateKey<const torch::optim::Optimizer>;
  const auto& state = opt.state();
  auto params = all_params(opt);
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = state.find(state_key<Key>(params[i]));
    if (it == state.end()) continue;
    const std::string k = "p" + std::to_string(i) + "_";
    if (auto* s = dynamic_cast<const torch::optim::AdamParamState*>(it->second.get())) {
      a.write(k + "step", c10::IValue(static_cast<int64_t>(s->step())));
      a.write(k + "exp_avg", s->exp_avg(), /*is_buffer=*/true);
      a.write(k + "exp_avg_sq", s->exp_avg_sq(), true);
      if (s->max_exp_avg_sq().defined()) a.write(k + "max_exp_avg_sq", s->max_exp_avg_sq(), true);
    } else if (auto* m = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
      if (m->momentum_buffer().defined()) a.write(k + "momentum_buffer", m->momentum_buffer(), true);
    }
  }
}

void load_optimizer(torch::optim::Optimizer& opt, torch::serialize::InputArchive& a) {
  using Key = StateKey<torch::optim::Optimizer>;
  auto& state = opt.state();
  auto params = all_params(opt);
  const bool adam = dynamic_cast<torch::optim::Adam*>(&opt) != nullptr;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string k = "p" + std::to_string(i) + "_";
    if (adam) {
      c10::IValue step;
      if (!a.try_read(k + "step", step)) continue;
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(step.toInt());
      torch::Tensor t;
      a.read(k + "exp_avg", t, true);
      s->exp_avg(t.clone());
      a.read(k + "exp_avg_sq", t, true);
      s->exp_avg_sq(t.clone());
      if (a.try_read(k + "max_exp_avg_sq", t, true)) s->max_exp_avg_sq(t.clone());
      state[state_key<Key>(params[i])] = std::move(s);
    } else {
      torch::Tensor t;
      if (!a.try_read(k + "momentum_buffer", t, true)) continue;
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(t.clone());
      state[state_key<Key>(params[i])] = std::move(s);
    }
  }
}

}  // namespace lrb
