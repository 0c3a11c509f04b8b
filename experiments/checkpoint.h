// Self-describing checkpoints: model, optimizer, trainer state and metadata in one archive, written
// atomically. Loading checks the model key and options before touching any tensor.
#pragma once
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>

#include "models/classifier.h"
#include "trainers/trainer.h"

namespace lrb {

constexpr int64_t kCheckpointSchema = 1;

struct CheckpointMeta {
  int64_t schema = kCheckpointSchema;
  std::string model_key, model_options;  // options as resolved YAML
  std::string trainer_key, dataset_label, spec_hash, git_commit, torch_version;
  int64_t epoch = 0, seed = 0;
  double test_acc = 0;
};

void save_checkpoint(const std::string& path, ClassifierImpl& model, const torch::optim::Optimizer* opt,
                     const Trainer* trainer, const CheckpointMeta& meta);
CheckpointMeta read_checkpoint_meta(const std::string& path);
// Loads into `model` (and opt/trainer when given) after checking `expected_model_key`/options.
CheckpointMeta load_checkpoint(const std::string& path, ClassifierImpl& model, torch::optim::Optimizer* opt,
                               Trainer* trainer, const std::string& expected_model_key,
                               const std::string& expected_model_options);

}  // namespace lrb
