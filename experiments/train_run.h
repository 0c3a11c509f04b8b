// Orchestration of one training run: config -> dataset, model, trainer, optimizer -> fit -> run directory.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/dataset.h"
#include "experiments/spec.h"
#include "experiments/step_memory.h"
#include "models/classifier.h"
#include "trainers/trainer.h"

namespace lrb {

struct EpochRecord {
  int epoch = 0;
  double loss = 0, train_acc = 0, test_acc = 0, seconds = 0;  // accuracies are fractions in [0,1]
  double val_acc = -1;                                        // -1: the dataset has no validation split
};

struct TrainResult {
  std::vector<EpochRecord> epochs;
  double final_test_acc = 0;
  std::string run_dir;
};

// Everything a run is made of, built and validated before any data is read (strict decoding).
struct RunParts {
  ExperimentSpec spec;
  DatasetSource::Ptr dataset;
  ClassifierImpl::Ptr model;  // built after dataset->load() by build_model()
  Trainer::Ptr trainer;
  StepMemory memory;  // plan_run's measurement of a step (check prints it)
  // Settings resolved beyond the config (an LR trainer's per-layer preset): "trainer.copies" -> source.
  std::map<std::string, std::string> resolved_from;
};

// Decodes `root` strictly and builds dataset source and trainer (no data loaded yet). It completes `root` into
// the effective config: every default a reader applied and every setting a trainer resolved from a model's
// preset is written into it, and spec.hash is the hash of that (so a run re-created from its
// config.resolved.yaml is the same experiment, and a changed default or preset is a different one). `memory_share` > 0: also
// measure a training step and refuse one that cannot fit in that share of the available memory (the ranks of a
// run on one host share it: 1 / local ranks); 0 skips the check (eval, which trains nothing).
RunParts plan_run(const NodePtr& root, double memory_share = 1.0);
// Loads data and builds the model (seeded from the spec) on the spec's device.
void materialize(RunParts& parts, bool training = true);  // training: the model is built under its 4x budget
// Trains per the spec and writes config.resolved.yaml, checkpoint.pt, metrics.csv, log.txt into out_dir,
// and a resumable state (resume.pt, removed when the run finishes) every train.checkpoint_every_steps steps
// and at every epoch end. `resume`: continue the run of this spec in out_dir from its resume.pt (start from
// the beginning when it has none yet; return at once when the run has finished); see resume_point().
// `team`: the processes this run spans (trainers/distributed.h), or null for one. Every rank runs the same
// loop on the same batches and does its share of each step; rank 0 alone writes out_dir, every rank reads it
// on --resume (a file system all hosts share, as on a cluster). Parameters and buffers are broadcast from rank
// 0 at the start and after every step's update checked equal on every rank (a hash every
// LRBENCH_DIST_CHECK_EVERY steps, default 50; a mismatch is a TrainingError).
// `tensorboard`: also write TensorBoard event files into <tensorboard>/<out_dir as a relative path>/ (every
// train.steps_every steps and every epoch).
TrainResult train_run(const NodePtr& root, const std::string& out_dir, bool resume = false, Collective* team = nullptr,
                      const std::string& tensorboard = "");

}  // namespace lrb
