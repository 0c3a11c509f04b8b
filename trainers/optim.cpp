#include "trainers/optim.h"

#include <torch/torch.h>

#include <cmath>

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
