#include "experiments/step_memory.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/memory_meter.h"

namespace lrb {

namespace {

// A training step holds, besides the activations, the parameters, their gradients and two Adam moments.
constexpr int64_t kParameterCopies = 4;
// Refuse above this share of the available memory: the data set, the allocator's slack and the BLAS scratch that
// the meter does not see need the rest.
constexpr double kUsableShare = 0.9;

// host: the probe of a host-memory check that only CPU runs make (check_step_memory returns early on CUDA).
Batch zeros_batch(const InputSpec& spec, Modality modality, int64_t rows) {
  Batch b;
  b.modality = modality;
  std::vector<int64_t> shape{rows};
  shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
  if (modality == Modality::kText) {
    // host: as above
    b.x = torch::full(shape, std::min<int64_t>(1, std::max<int64_t>(spec.vocab_size - 1, 0)), torch::kLong);
    b.lengths = torch::full({rows}, spec.shape.empty() ? 1 : spec.shape[0], torch::kLong);
  } else {
    b.x = torch::full(shape, 0.5);  // host: as above
  }
  b.y = torch::zeros({rows}, torch::kLong);  // host: as above
  return b;
}

std::string one_line(std::string yaml) {
  while (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
  for (size_t at; (at = yaml.find('\n')) != std::string::npos;) yaml.replace(at, 1, "; ");
  return yaml.size() > 200 ? yaml.substr(0, 200) + "..." : yaml;
}

// Peak bytes above what was live before, of one pass on `rows` zero examples: with `grad`, forward and backward
// (the gradient buffers of a backward pass outgrow what the forward saved), else a no-grad forward.
int64_t pass_peak(ClassifierImpl& model, const InputSpec& spec, Modality modality, int64_t rows, bool grad,
                  int64_t budget) {
  auto batch = zeros_batch(spec, modality, rows);
  MemoryMeter meter(budget);
  torch::AutoGradMode mode(grad);
  auto out = model.forward(batch);
  if (grad) {
    out.sum().backward();
    for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  }
  return meter.peak();
}

int64_t per_example(ClassifierImpl& model, const InputSpec& spec, Modality modality, bool grad, int64_t budget) {
  // Two sizes, so what does not grow with the batch (weight transposes, workspaces) does not count per example.
  constexpr int64_t kSmall = 2, kLarge = 10;
  const int64_t small = pass_peak(model, spec, modality, kSmall, grad, budget);
  const int64_t large = pass_peak(model, spec, modality, kLarge, grad, budget);
  return std::max<int64_t>(large - small, 0) / (kLarge - kSmall);
}

}  // namespace

ClassifierImpl::Ptr build_within_memory(const ExperimentSpec& spec, const std::function<ClassifierImpl::Ptr()>& build,
                                        bool training) {
  const int64_t avail = available_memory_bytes();
  const int64_t copies = training ? kParameterCopies : 1;
  try {
    // Training holds kParameterCopies of the parameters, so building stops at that share: a model that cannot
    // train here is refused after touching a quarter of the memory, not all of it.
    MemoryMeter meter(avail > 0 ? static_cast<int64_t>(kUsableShare * static_cast<double>(avail)) / copies : 0);
    return build();
  } catch (const OutOfMemory& e) {
    if (!e.over_budget())
      throw Error(fmt::format("out of memory building the model ({}); free memory or make it smaller (model: {})",
                              e.what(), one_line(to_yaml(spec.model.node()))),
                  1);
    throw ConfigError(spec.model.where("name"),
                      fmt::format("the model's parameters need more than {}{}, more than the {} this machine has "
                                  "available; make it smaller (model: {})",
                                  human_bytes(e.total()),
                                  training ? fmt::format(", and training {}x that (gradients, Adam moments)", copies) : "",
                                  human_bytes(avail), one_line(to_yaml(spec.model.node()))));
  }
}

StepMemory check_step_memory(const ExperimentSpec& spec, const DatasetSource& data, ClassifierImpl& model,
                             double share) {
  StepMemory m;
  // Host memory is what a CPU run spends; a CUDA run's activations live on the device (not measured here).
  if (spec.device.rfind("cuda", 0) == 0 || (spec.device == "auto" && torch::cuda::is_available())) return m;
  m.available = static_cast<int64_t>(share * static_cast<double>(available_memory_bytes()));
  for (const auto& t : model.parameters()) m.parameters += t.numel() * t.element_size();
  for (const auto& t : model.buffers()) m.parameters += t.numel() * t.element_size();
  const Modality modality = data.modality();
  if (modality == Modality::kGraph) return m;  // one whole-graph batch: the model's size is what there is to check
  const InputSpec input = data.input_spec();
  const bool training = model.is_training();
  const auto usable = static_cast<int64_t>(kUsableShare * static_cast<double>(m.available));
  try {
    model.train();
    m.per_example_train = per_example(model, input, modality, /*grad=*/true, usable);
    model.eval();
    m.per_example_eval = per_example(model, input, modality, /*grad=*/false, usable);
  } catch (const OutOfMemory& e) {
    model.train(training);
    if (!e.over_budget())
      throw Error(fmt::format("out of memory measuring a step on 10 probe examples ({}); free memory or make the "
                              "model smaller (model: {})",
                              e.what(), one_line(to_yaml(spec.model.node()))),
                  1);
    throw ConfigError(spec.model.where("name"),
                      fmt::format("the model's forward and backward on 10 probe examples already need more than {}, "
                                  "more than the {} available; make it smaller (model: {})",
                                  human_bytes(e.total()), human_bytes(m.available), one_line(to_yaml(spec.model.node()))));
  } catch (const c10::Error& e) {
    model.train(training);
    std::string what = e.what_without_backtrace();
    logger("memory")->debug("no step memory estimate: the probe forward failed ({})", what.substr(0, what.find('\n')));
    return m;
  }
  model.train(training);
  m.measured = true;
  m.train = kParameterCopies * m.parameters + spec.train.batch_size * m.per_example_train;
  m.eval = m.parameters + spec.train.eval_batch_size * m.per_example_eval;
  if (m.available <= 0) return m;
  auto refuse = [&](const char* key, int64_t batch, int64_t per, int64_t total, int64_t fixed) {
    const int64_t fits = std::max<int64_t>((usable - fixed) / std::max<int64_t>(per, 1), 0);
    throw ConfigError(Config(spec.root, "").sub("train").where(key),
                      fmt::format("train.{}={}: a batch needs about {} ({} per example x {}, plus {} for the model), "
                                  "more than the {} available; lower train.{} (at most about {} fits here)",
                                  key, batch, human_bytes(total), human_bytes(per), batch, human_bytes(fixed),
                                  human_bytes(m.available), key, fits));
  };
  if (m.train > usable)
    refuse("batch_size", spec.train.batch_size, m.per_example_train, m.train, kParameterCopies * m.parameters);
  if (m.eval > usable)
    refuse("eval_batch_size", spec.train.eval_batch_size, m.per_example_eval, m.eval, m.parameters);
  return m;
}

std::string describe(const StepMemory& m) {
  std::string s = fmt::format("# memory: parameters {}", human_bytes(m.parameters));
  if (m.measured)
    s += fmt::format("; a training step ~{} ({} per example), an eval batch ~{} ({} per example)", human_bytes(m.train),
                     human_bytes(m.per_example_train), human_bytes(m.eval), human_bytes(m.per_example_eval));
  s += m.available > 0 ? fmt::format("; {} available", human_bytes(m.available)) : "; available memory unknown";
  return s;
}

}  // namespace lrb
