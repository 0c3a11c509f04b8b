// Optimizer and learning-rate schedule from the spec. The schedule is a pure function of the epoch,
// so a resumed run gets exactly the rate an uninterrupted one would.
#pragma once
#include <torch/optim/optimizer.h>

#include <memory>
#include <vector>

#include "trainers/train_spec.h"

namespace lrb {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, std::vector<torch::Tensor> params);
double scheduled_lr(const TrainSpec& spec, int64_t epoch);  // epoch counts from 0
void set_lr(torch::optim::Optimizer& opt, double lr);

}  // namespace lrb

namespace torch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace torch::serialize

namespace lrb {
// Optimizer state by parameter index. LibTorch's own serialisation keys state by memory address,
// which makes checkpoints differ between identical runs; this keeps them byte-identical.
void save_optimizer(const torch::optim::Optimizer& opt, torch::serialize::OutputArchive& archive);
void load_optimizer(torch::optim::Optimizer& opt, torch::serialize::InputArchive& archive);
}  // namespace lrb
