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

// Where training stands between two steps: what a resumed run needs so that the rest of it computes exactly
// what an uninterrupted run would (bit for bit on CPU). fit() derives each epoch's shuffle, augmentation and
// noise generators from the seed and the epoch; within an epoch the last two advance with every step, and
// dropout draws from torch's global generators, so their states are part of the position.
struct FitPosition {
  int64_t epoch = 0;  // 0-based epoch to continue
  int64_t step = 0;   // steps of that epoch already taken (0: the epoch has not started)
  // The epoch's running totals so far (for its loss and train accuracy), and its seconds of training.
  double loss_sum = 0, seconds = 0;
  int64_t correct = 0, count = 0;
  // at::Generator::get_state() of the epoch's augmentation and noise generators (undefined when step is 0:
  // fresh ones are derived), of torch's global CPU generator and, on CUDA, of the device's global one.
  torch::Tensor augment_state, noise_state, global_cpu_state, global_device_state;
};

// Training over the last spec.steps_every steps: a row of the run's steps.csv.
struct StepWindow {
  int64_t epoch = 0, step = 0, steps = 0;  // 1-based epoch; step within it; steps in the window (fewer after a resume)
  int64_t steps_per_epoch = 0;
  double loss = 0, train_acc = 0;          // means over the window's examples (accuracy a fraction)
  double seconds_per_step = 0, examples_per_second = 0, lr = 0;
};

struct FitHooks {
  // Called every spec.steps_every steps (and at an epoch's last step) with the window's means.
  std::function<void(const StepWindow&)> on_steps;
  // Called after every epoch, e.g. to write metrics and checkpoints.
  std::function<void(const EpochStats&)> on_epoch;
  // Called every spec.checkpoint_every_steps steps within an epoch (when that is > 0) and after every epoch
  // (after on_epoch, with the position at the next epoch's step 0): the point to save a resumable state.
  std::function<void(const FitPosition&)> on_position;
  // Called after every optimizer step with the 1-based epoch and step and the epoch's number of steps (a scaled-out
  // run keeps its ranks in step; snapshots count steps across epochs).
  std::function<void(int64_t epoch, int64_t step, int64_t steps)> after_step;
  // Checked after every step: a non-zero signal number stops training there (the state is saved through
  // on_position first, then fit throws Interrupted). A scaled-out run returns the same answer on every rank.
  std::function<int()> stop_signal;
};

// Clean accuracy (fraction) of `model` on `split`, in eval mode, without gradients.
double evaluate_accuracy(ClassifierImpl& model, const Batch& split, int64_t batch_size, const torch::Device& device,
                         int64_t* n_correct = nullptr);

// Trains from `from` (the start, FitPosition{}, or a position on_position gave a run of the same spec, seed and
// device, with the model, optimizer and trainer restored to their state there) to spec.epochs. Throws TrainingError naming the epoch and step
// when the loss or any gradient estimate is NaN/Inf, or when a parameter is after the optimizer step; the
// message says nothing about checkpoints (the caller knows which one it kept).
void fit(ClassifierImpl& model, Trainer& trainer, torch::optim::Optimizer& opt, const DatasetSource& data,
         const TrainSpec& spec, const torch::Device& device, uint64_t seed, const FitPosition& from, const FitHooks& hooks);

}  // namespace lrb
