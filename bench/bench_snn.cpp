// Spiking net (Table 4): one LR step of the snn (784-500-10, T = 8, the lr-l trainer: 100 copies, logit noise
// on every layer's input current at every step) beside its surrogate-BP step (BPTT through the sigmoid
// surrogate), batch 100 of MNIST-shaped images, 2 threads.
//   bench_snn --benchmark_filter=LrStep     args: copies, joint (1) or layer-wise (0, the preset's default)
//   bench_snn --benchmark_filter=BpStep     forward, cross-entropy, backward
#include <ATen/CPUGeneratorImpl.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench/bench_flops.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "models/classifier.h"
#include "trainers/lr/lr_trainer.h"

namespace {

using namespace lrb;

constexpr int kThreads = 2;

ClassifierImpl::Ptr make_snn() {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {1, 28, 28};
  ctx.num_classes = 10;
  return Registry<ClassifierImpl>::get().make(Config(parse_yaml_string("name: snn", "bench"), "model"), ctx);
}

Batch mnist_like() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  Batch b;
  b.x = at::rand({100, 1, 28, 28}, gen);
  b.y = at::randint(10, {100}, gen, torch::kLong);
  return b;
}

void BM_SnnLrStep(benchmark::State& state) {
  keep_freed_memory();  // as lrbench does (core/runtime.h)
  at::set_num_threads(kThreads);
  auto model = make_snn();
  std::string yaml = "name: lr-l\ncopies: [" + std::to_string(state.range(0)) + "]\nlayerwise: " +
                     (state.range(1) ? "false" : "true");
  lr::LrTrainer trainer(lr::LrOptions::from(Config(parse_yaml_string(yaml, "bench"), "trainer"), "lr-l"));
  trainer.attach(*model);
  auto b = mnist_like();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  bench::reset_peak_rss();
  trainer.estimate_grad(*model, b, gen);  // warm-up: allocator
  for (auto _ : state) benchmark::DoNotOptimize(trainer.estimate_grad(*model, b, gen));
  bench::flop_counters(state, bench::lr_step_flops(*model, trainer.settings(), b));
  state.counters["peak_GB"] = bench::peak_rss_gb();
}
BENCHMARK(BM_SnnLrStep)->Args({100, 0})->Args({100, 1})->Iterations(3)->Repetitions(3)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SnnBpStep(benchmark::State& state) {
  at::set_num_threads(kThreads);
  auto model = make_snn();
  auto b = mnist_like();
  for (auto _ : state) {
    model->zero_grad();
    torch::nn::functional::cross_entropy(model->forward(b), b.y).backward();
  }
}
BENCHMARK(BM_SnnBpStep)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
