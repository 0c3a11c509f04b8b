// What the fit loop and the optimizer need from an experiment: the training schedule. Lives in trainers/
// (below experiments/, which decodes it from YAML) so trainers never include orchestration headers.
#pragma once
#include <cstdint>
#include <string>

namespace lrb {

struct OptimizerSpec {
  std::string name = "adam";  // adam | sgd
  double lr = 1e-3, momentum = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};

struct SchedulerSpec {
  std::string name = "none";  // none | step
  int64_t step_size = 10;
  double gamma = 0.8;
};

struct TrainSpec {
  int64_t epochs = 1, batch_size = 100, eval_batch_size = 1000;
  int64_t checkpoint_every = 1;  // epochs
  // Steps between resumable states (RUN_DIR/resume.pt) within an epoch; 0 = at epoch ends only. They cost
  // one write of model + optimizer state, and bound the work a killed run loses (train --resume).
  int64_t checkpoint_every_steps = 50;
  int64_t log_every = 0;         // steps between DEBUG lines (0 = never)
  int64_t steps_every = 10;      // steps between rows of the run's steps.csv (0 = no steps.csv)
  int64_t max_steps = 0;         // per epoch, 0 = all (quick runs and tests)
  // The parameters the run ends with: "last" (the last epoch's) or "best-val" (the epoch with the best
  // validation accuracy, first one on ties, as the GCN/GAT originals select); best-val needs a dataset
  // with a validation split (DatasetSource::validation()).
  std::string select = "last";
  // Steps between matched-accuracy snapshots (RUN_DIR/snapshots/step-N.pt with step-N.json: the parameters and
  // their clean accuracy on the selection split, the validation split or else the last snapshot_examples test
  // examples); 0 = none. `lrbench eval BP_RUN --match RUN` evaluates the snapshot whose accuracy is nearest RUN's.
  int64_t snapshot_every = 0;
  int64_t snapshot_examples = 2000;
  OptimizerSpec optimizer;
  SchedulerSpec scheduler;
};

}  // namespace lrb
