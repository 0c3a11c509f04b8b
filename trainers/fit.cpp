#include "trainers/fit.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

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

void fit(ClassifierImpl& model, Trainer& trainer, torch::optim::Optimizer& opt, const DatasetSource& data,
         const TrainSpec& spec, const torch::Device& device, uint64_t seed, int64_t start_epoch,
         const FitHooks& hooks) {
  auto log = logger("train");
  for (int64_t epoch = start_epoch; epoch < spec.epochs; ++epoch) {
    const double lr = scheduled_lr(spec, epoch);
    set_lr(opt, lr);
    // Per-epoch generators: a resumed run draws exactly what an uninterrupted one would.
    auto shuffle_gen = make_generator(derive_seed(seed, "shuffle/" + std::to_string(epoch)));
    auto aug_gen = make_generator(derive_seed(seed, "augment/" + std::to_string(epoch)));
    auto noise_gen = make_generator(derive_seed(seed, "noise/" + std::to_string(epoch)), device);
    auto batches = make_batches(data.train(), spec.batch_size, &shuffle_gen);
    int64_t steps = static_cast<int64_t>(batches.size());
    if (spec.max_steps > 0) steps = std::min(steps, spec.max_steps);

    model.train();
    Progress bar(epoch + 1, spec.epochs, steps);
    auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t correct = 0, count = 0;
    for (int64_t step = 0; step < steps; ++step) {
      Batch b = data.augment(batches[step], aug_gen).to(device);
      StepStats s = trainer.estimate_grad(model, b, noise_gen);
      if (!std::isfinite(s.loss))
        throw TrainingError(fmt::format("epoch {} step {}: training loss is {} (the last good checkpoint is kept; "
                                        "lower train.optimizer.lr or check the data)",
                                        epoch + 1, step + 1, s.loss));
      opt.step();
      loss_sum += s.loss * s.count;
      correct += s.correct;
      count += s.count;
      if (spec.log_every > 0 && (step + 1) % spec.log_every == 0)
        log->debug("epoch {} step {}/{} loss {:.4f}", epoch + 1, step + 1, steps, s.loss);
      bar.update(step + 1, loss_sum / count, static_cast<double>(correct) / count, count);
    }
    bar.finish();
    EpochStats e;
    e.epoch = epoch + 1;
    e.steps = steps;
    e.examples = count;
    e.loss = count ? loss_sum / count : 0;
    e.train_acc = count ? static_cast<double>(correct) / count : 0;
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.test_acc = evaluate_accuracy(model, data.test(), spec.eval_batch_size, device);
    log->info("epoch {}/{}: loss {:.4f} train {:.2f}% test {:.2f}% lr {:.3g} ({:.1f} s, {:.0f} ex/s)", e.epoch,
              spec.epochs, e.loss, 100 * e.train_acc, 100 * e.test_acc, lr, e.seconds,
              e.seconds > 0 ? count / e.seconds : 0.0);
    if (hooks.on_epoch) hooks.on_epoch(e);
  }
}

}  // namespace lrb
