#include "trainers/fit.h"

#include "core/stop_request.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "core/errors.h"
#include "core/log.h"
#include "core/seed.h"
#include "trainers/optim.h"
#include "trainers/progress.h"

namespace lrb {

double evaluate_accuracy(ClassifierImpl& model, const Batch& split, int64_t batch_size, const torch::Device& device,
                         int64_t* n_correct) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  int64_t correct = 0, total = 0;
  for (const auto& b : make_batches(split, batch_size, nullptr)) {
    auto bd = b.to(device);
    auto logits = bd.select(model.forward(bd));
    auto y = bd.targets();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    total += y.size(0);
  }
  model.train(was_training);
  if (n_correct) *n_correct = correct;
  return total ? static_cast<double>(correct) / total : 0.0;
}

namespace {

// What the optimizer updates, named for messages: model parameters by module path, a trainer's own
// parameters (learned noise scales) by trainer key and index.
std::vector<std::pair<std::string, torch::Tensor>> named_updates(ClassifierImpl& model, const Trainer& trainer,
                                                                 torch::optim::Optimizer& opt) {
  std::map<const void*, std::string> names;
  for (const auto& kv : model.named_parameters()) names[kv.value().unsafeGetTensorImpl()] = kv.key();
  std::vector<std::pair<std::string, torch::Tensor>> out;
  int extra = 0;
  for (const auto& g : opt.param_groups())
    for (const auto& p : g.params()) {
      auto it = names.find(p.unsafeGetTensorImpl());
      out.emplace_back(it != names.end() ? it->second : fmt::format("{} parameter {}", trainer.key(), extra++), p);
    }
  return out;
}

// The first tensor (by `pick`) holding NaN or Inf, or nullptr; one host sync for all of them.
template <class Pick>
const std::string* first_nonfinite(const std::vector<std::pair<std::string, torch::Tensor>>& named, Pick pick) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flags;
  std::vector<const std::string*> names;
  for (const auto& [name, t] : named) {
    auto v = pick(t);
    if (!v.defined()) continue;
    flags.push_back(torch::isfinite(v).all().to(torch::kCPU));
    names.push_back(&name);
  }
  if (flags.empty()) return nullptr;
  auto ok = torch::stack(flags);
  if (ok.all().item<bool>()) return nullptr;
  auto acc = ok.accessor<bool, 1>();
  for (int64_t i = 0; i < acc.size(0); ++i)
    if (!acc[i]) return names[i];
  return nullptr;
}

// The optimizer's running statistics: a gradient near float32's limit can overflow Adam's squared average
// while the step itself stays finite (it divides by that infinity), which no parameter check would see.
std::vector<std::pair<std::string, torch::Tensor>> optimizer_state(torch::optim::Optimizer& opt) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& kv : opt.state()) {
    if (auto* a = dynamic_cast<const torch::optim::AdamParamState*>(kv.second.get())) {
      out.emplace_back("exp_avg", a->exp_avg());
      out.emplace_back("exp_avg_sq", a->exp_avg_sq());
    } else if (auto* m = dynamic_cast<const torch::optim::SGDParamState*>(kv.second.get())) {
      out.emplace_back("momentum_buffer", m->momentum_buffer());
    }
  }
  return out;
}

torch::Tensor state_of(at::Generator& g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}
void set_state(at::Generator& g, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

}  // namespace

void fit(ClassifierImpl& model, Trainer& trainer, torch::optim::Optimizer& opt, const DatasetSource& data,
         const TrainSpec& spec, const torch::Device& device, uint64_t seed, const FitPosition& from,
         const FitHooks& hooks) {
  auto log = logger("train");
  const auto updated = named_updates(model, trainer, opt);
  at::Generator global_cpu = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
  std::optional<at::Generator> global_device;
  if (!device.is_cpu()) global_device = at::globalContext().defaultGenerator(device);
  if (from.global_cpu_state.defined()) set_state(global_cpu, from.global_cpu_state);
  if (global_device && from.global_device_state.defined()) set_state(*global_device, from.global_device_state);
  auto position = [&](int64_t epoch, int64_t step, at::Generator* aug, at::Generator* noise) {
    FitPosition p;
    p.epoch = epoch;
    p.step = step;
    if (aug) p.augment_state = state_of(*aug);
    if (noise) p.noise_state = state_of(*noise);
    p.global_cpu_state = state_of(global_cpu);
    if (global_device) p.global_device_state = state_of(*global_device);
    return p;
  };
  for (int64_t epoch = from.epoch; epoch < spec.epochs; ++epoch) {
    const bool resumed = epoch == from.epoch && from.step > 0;
    const double lr = scheduled_lr(spec, epoch);
    set_lr(opt, lr);
    // Per-epoch generators: a resumed run draws exactly what an uninterrupted one would.
    // host: the data and its augmentation live on the host; each batch moves to the device after
    auto shuffle_gen = make_generator(derive_seed(seed, "shuffle/" + std::to_string(epoch)));
    auto aug_gen = make_generator(derive_seed(seed, "augment/" + std::to_string(epoch)));
    // host: the trainers' noise is addressed (trainers/lr/noise.h) and this generator only draws each step's key,
    // so on the host it gives a GPU run the CPU run's noise and costs the step no device-to-host sync.
    auto noise_gen = make_generator(derive_seed(seed, "noise/" + std::to_string(epoch)));
    if (resumed) {
      set_state(aug_gen, from.augment_state);
      set_state(noise_gen, from.noise_state);
    }
    auto batches = make_batches(data.train(), spec.batch_size, &shuffle_gen);
    int64_t steps = static_cast<int64_t>(batches.size());
    if (spec.max_steps > 0) steps = std::min(steps, spec.max_steps);

    model.train();
    Progress bar(epoch + 1, spec.epochs, steps, resumed ? from.step : 0);
    auto t0 = std::chrono::steady_clock::now();
    double loss_sum = resumed ? from.loss_sum : 0, seconds_before = resumed ? from.seconds : 0;
    int64_t correct = resumed ? from.correct : 0, count = resumed ? from.count : 0;
    if (resumed && from.step > steps)
      throw TrainingError(fmt::format("cannot resume at epoch {} step {}: the epoch has only {} steps (the data or "
                                      "train.batch_size changed since the state was saved)",
                                      epoch + 1, from.step, steps));
    StepWindow window;
    double window_loss = 0;
    int64_t window_correct = 0, window_count = 0;
    auto window_t0 = std::chrono::steady_clock::now();
    for (int64_t step = resumed ? from.step : 0; step < steps; ++step) {
      Batch b = data.augment(batches[step], aug_gen).to(device);
      StepStats s = trainer.estimate_grad(model, b, noise_gen);
      // Checked before and after the update: a non-finite value must stop the run before it reaches the
      // parameters, and an update that overflows must stop it before a checkpoint can hold it.
      if (!std::isfinite(s.loss))
        throw DivergedError(fmt::format("epoch {} step {}: training loss is {} (lower train.optimizer.lr or check "
                                        "the data)",
                                        epoch + 1, step + 1, s.loss));
      if (auto* name = first_nonfinite(updated, [](const torch::Tensor& p) { return p.grad(); }))
        throw DivergedError(fmt::format("epoch {} step {}: the gradient estimate of '{}' from trainer '{}' is not "
                                        "finite (lower train.optimizer.lr; for es and lr-* trainers, keep "
                                        "trainer.sigma in a usual range such as 1e-3 to 1e-1)",
                                        epoch + 1, step + 1, *name, trainer.key()));
      opt.step();
      if (auto* name = first_nonfinite(updated, [](const torch::Tensor& p) { return p; }))
        throw DivergedError(fmt::format("epoch {} step {}: parameter '{}' is not finite after the optimizer step "
                                        "(the update overflowed: lower train.optimizer.lr or "
                                        "train.optimizer.weight_decay)",
                                        epoch + 1, step + 1, *name));
      const auto state = optimizer_state(opt);
      if (auto* name = first_nonfinite(state, [](const torch::Tensor& t) { return t; }))
        throw DivergedError(fmt::format("epoch {} step {}: the optimizer's {} is not finite after the step (the "
                                        "gradient estimates are too large: lower train.optimizer.lr; for es and "
                                        "lr-* trainers, trainer.sigma in a usual range such as 1e-3 to 1e-1)",
                                        epoch + 1, step + 1, *name));
      if (hooks.after_step) hooks.after_step(epoch + 1, step + 1, steps);
      loss_sum += s.loss * s.count;
      correct += s.correct;
      count += s.count;
      window_loss += s.loss * s.count, window_correct += s.correct, window_count += s.count, ++window.steps;
      if (hooks.on_steps && spec.steps_every > 0 && ((step + 1) % spec.steps_every == 0 || step + 1 == steps)) {
        const auto now = std::chrono::steady_clock::now();
        const double secs = std::chrono::duration<double>(now - window_t0).count();
        window.epoch = epoch + 1, window.step = step + 1, window.lr = lr, window.steps_per_epoch = steps;
        window.loss = window_count ? window_loss / window_count : 0;
        window.train_acc = window_count ? static_cast<double>(window_correct) / window_count : 0;
        window.seconds_per_step = secs / static_cast<double>(window.steps);
        window.examples_per_second = secs > 0 ? window_count / secs : 0;
        hooks.on_steps(window);
        window = StepWindow{}, window_loss = 0, window_correct = 0, window_count = 0, window_t0 = now;
      }
      if (spec.log_every > 0 && (step + 1) % spec.log_every == 0)
        log->debug("epoch {} step {}/{} loss {:.4f}", epoch + 1, step + 1, steps, s.loss);
      bar.update(step + 1, loss_sum / count, static_cast<double>(correct) / count, count);
      const int stop = hooks.stop_signal ? hooks.stop_signal() : 0;
      if (hooks.on_position && (stop || (spec.checkpoint_every_steps > 0 && (step + 1) % spec.checkpoint_every_steps == 0)) &&
          step + 1 < steps) {
        FitPosition p = position(epoch, step + 1, &aug_gen, &noise_gen);
        p.loss_sum = loss_sum;
        p.correct = correct;
        p.count = count;
        p.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        hooks.on_position(p);
      }
      if (stop && step + 1 < steps)  // at an epoch's last step, the epoch ends first (its state is saved below)
        throw Interrupted(fmt::format("{} at epoch {} step {}: training stopped there and saved its resume state; "
                                      "continue with lrbench train ... --resume",
                                      signal_name(stop), epoch + 1, step + 1),
                          stop);
    }
    bar.finish();
    EpochStats e;
    e.epoch = epoch + 1;
    e.steps = steps;
    e.examples = count;
    e.loss = count ? loss_sum / count : 0;
    e.train_acc = count ? static_cast<double>(correct) / count : 0;
    e.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.test_acc = evaluate_accuracy(model, data.test(), spec.eval_batch_size, device);
    std::string val;
    if (const Batch* v = data.validation()) {
      e.val_acc = evaluate_accuracy(model, *v, spec.eval_batch_size, device);
      val = fmt::format(" val {:.2f}%", 100 * e.val_acc);
    }
    log->info("epoch {}/{}: loss {:.4f} train {:.2f}%{} test {:.2f}% lr {:.3g} ({:.1f} s, {:.0f} ex/s)", e.epoch,
              spec.epochs, e.loss, 100 * e.train_acc, val, 100 * e.test_acc, lr, e.seconds,
              e.seconds > 0 ? count / e.seconds : 0.0);
    if (hooks.on_epoch) hooks.on_epoch(e);
    if (hooks.on_position) hooks.on_position(position(epoch + 1, 0, nullptr, nullptr));
    if (epoch + 1 < spec.epochs && hooks.stop_signal)
      if (const int stop = hooks.stop_signal())
        throw Interrupted(fmt::format("{} at the end of epoch {}: training stopped there and saved its resume state; "
                                      "continue with lrbench train ... --resume",
                                      signal_name(stop), epoch + 1),
                          stop);
  }
}

}  // namespace lrb
