// Self-describing checkpoints: model, optimizer, trainer state and metadata in one archive, written
// atomically. Loading checks the model key and options before touching any tensor.
#pragma once
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// What a resumable state (RUN_DIR/resume.pt) adds to a checkpoint: the orchestration's own record as JSON
// text and named tensors (generator states, a best-val snapshot). Tensor names are free-form.
// A checkpoint written with extras carries its own sha256 (a trailer after the archive), checked on load.
struct CheckpointExtras {
  std::string json;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  bool sealed = false;  // set by load_checkpoint: the file carried its checksum (and it matched)
};

// Writes the checkpoint atomically and returns the sha256 of the bytes written (LibTorch archives carry no
// checksum of their own; the run directory's run.json keeps it). Throws TrainingError, writing nothing,
// when a model parameter, buffer or optimizer state holds NaN/Inf.
std::string save_checkpoint(const std::string& path, ClassifierImpl& model, const torch::optim::Optimizer* opt,
                            const Trainer* trainer, const CheckpointMeta& meta,
                            const CheckpointExtras* extras = nullptr);
// The metadata only. The file must first hash to `expected_sha256`, or when that is empty to the sha256
// that a run.json beside it records for it (if any); CheckpointError otherwise.
CheckpointMeta read_checkpoint_meta(const std::string& path, const std::string& expected_sha256 = "");
// Loads into `model` (and opt/trainer when given) after checking `expected_model_key`/options. Throws
// CheckpointError (one line naming `path`) when the file is missing or unreadable, does not hash to the
// expected sha256 (as for read_checkpoint_meta, checked before anything is parsed), does not fit the
// model, or holds a NaN/Inf parameter, buffer or optimizer state. `extras`, when given, receives what
// save_checkpoint stored there (CheckpointError when the file has none).
CheckpointMeta load_checkpoint(const std::string& path, ClassifierImpl& model, torch::optim::Optimizer* opt,
                               Trainer* trainer, const std::string& expected_model_key,
                               const std::string& expected_model_options, const std::string& expected_sha256 = "",
                               CheckpointExtras* extras = nullptr);

}  // namespace lrb
