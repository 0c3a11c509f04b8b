// Will a run's step fit in this machine's memory? Measured, not guessed: the model is built and run forward on
// probe batches of zeros under core/memory_meter.h, and the bytes per example scaled to the configured batch
// sizes. `check` and `train` refuse what cannot fit, naming the setting and the estimate, before any data is read
// (the kernel's OOM killer would end the run without a word, or the machine would swap for hours).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "datasets/dataset.h"
#include "experiments/spec.h"
#include "models/classifier.h"

namespace lrb {

struct StepMemory {
  int64_t parameters = 0;         // bytes of the model's parameters and buffers
  int64_t per_example_train = 0;  // bytes per example of a forward that keeps what a gradient needs
  int64_t per_example_eval = 0;   // bytes per example of a no-grad forward
  int64_t train = 0, eval = 0;    // the estimates: a training step of train.batch_size, an eval batch
  int64_t available = 0;          // available_memory_bytes() when measured (0: unknown)
  bool measured = false;          // false for graphs (one whole-graph batch; the model's size is all there is)
};

// Measures `model` (built from the dataset's declared input) on probe batches. Throws ConfigError naming
// train.batch_size or train.eval_batch_size (and the estimate) when a step would not fit. A model whose forward
// cannot run on zeros is left unmeasured (measured = false): its first real batch will tell.
StepMemory check_step_memory(const ExperimentSpec& spec, const DatasetSource& data, ClassifierImpl& model,
                             double share = 1.0);
// One line for `check`: "# memory: a training step ~1.2 GB (...), an eval batch ~300 MB; 20.1 GB available".
std::string describe(const StepMemory& m);
// Runs `build` under a budget of the available memory (a quarter of it for `training`, which holds four copies of
// the parameters); a model over it is a ConfigError naming it, one the system cannot give memory for an Error.
ClassifierImpl::Ptr build_within_memory(const ExperimentSpec& spec, const std::function<ClassifierImpl::Ptr()>& build,
                                        bool training = true);

}  // namespace lrb
