// The resumable state of a training run (RUN_DIR/resume.pt): a checkpoint of model, optimizer and trainer
// plus where fit() stands and what train_run has recorded so far, so that `lrbench train --resume` after a
// crash (even kill -9) ends with a checkpoint.pt byte-identical to an uninterrupted run's (CPU).
#pragma once
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "experiments/checkpoint.h"
#include "experiments/train_run.h"
#include "trainers/fit.h"

namespace lrb {

struct ResumeState {
  FitPosition position;
  std::vector<EpochRecord> epochs;  // the finished epochs (metrics.csv)
  int64_t saved_epoch = 0;          // the epoch checkpoint.pt was last written after (0: none yet)
  std::string device;               // the training device ("cpu", "cuda:0"): generator states are per device
  // Wall seconds the run's processes spent up to this state (run.json's `seconds` sums them over resumes;
  // the work a kill threw away after the state is not counted, its redo is). Absent in older states: 0.
  double wall_seconds = 0;
  // best-val selection: the best epoch so far (epoch 0: none yet) and its parameters and buffers
  EpochRecord chosen;
  std::vector<std::pair<std::string, torch::Tensor>> best;
};

// To and from the extras of a checkpoint archive. decode throws CheckpointError naming `path` when the
// record is not a resume state this lrbench wrote (damaged, or another schema).
CheckpointExtras encode_resume_state(const ResumeState& s);
ResumeState decode_resume_state(const CheckpointExtras& x, const std::string& path);

}  // namespace lrb
