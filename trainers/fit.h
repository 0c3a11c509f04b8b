// The one epoch/step loop shared by every trainer: batches, schedule, progress, NaN guard, evaluation.
#pragma once
#include <torch/optim/optimizer.h>

#include <functional>
#include <string>

#include "datasets/dataset.h"
#include "trainers/train_spec.h"
#include "models/classifier.h"
#include "trainers/trainer.h"

namespace lrb {

struct EpochStats {
  int64_t epoch = 0;  // 1-based
  double loss = 0, train_acc = 0, test_acc = 0, seconds = 0;
  double val_acc = -1;  // fraction; -1 when the dataset has no validation split
  int64_t steps = 0, examples = 0;
};

struct FitHooks {
  // Called after every epoch, e.g. to write metrics and checkpoints.
  std::function<void(const EpochStats&)> on_epoch;
};

// Clean accuracy (fraction) of `model` on `split`, in eval mode, without gradients.
double evaluate_accuracy(ClassifierImpl& model, const Batch& split, int64_t batch_size, const torch::Device& device,
                         int64_t* n_correct = nullptr);

// Trains from epoch `start_epoch` (0-based) to spec.epochs. Throws TrainingError naming the epoch and step
// when the loss or any gradient estimate is NaN/Inf, or when a parameter is after the optimizer step; the
// message says nothing about checkpoints (the caller knows which one it kept).
void fit(ClassifierImpl& model, Trainer& trainer, torch::optim::Optimizer& opt, const DatasetSource& data,
         const TrainSpec& spec, const torch::Device& device, uint64_t seed, int64_t start_epoch, const FitHooks& hooks);

}  // namespace lrb
