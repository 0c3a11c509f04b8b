// LR-WL ResNet-5 step (docs/PAPER.md presets: batch 100, copies [100,200,200,100,50]) with the real trainer,
// next to the fp32 GEMM ceiling, an ES step and a BP step. Counters (bench/bench_flops.h): GFLOP per step,
// GFLOP/s, `ceiling` (the share of this binary's GEMM ceiling), peak RSS.
//   bench_lr_step --benchmark_filter=LrWl          (step time, scaling with copies and batch)
//   LRB_LR_PROFILE=trace.json bench_lr_step ...     (also writes a per-op profile of one step first)
#include <ATen/CPUGeneratorImpl.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_flops.h"
#include "bench/bench_main.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "trainers/trainer.h"
#include "trainers/lr/engine.h"
#include "trainers/lr/lr_trainer.h"

namespace {

using namespace lrb;

constexpr int kThreads = 2;

ClassifierImpl::Ptr make_resnet5() {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {3, 32, 32};
  ctx.input.mean = {0.4914, 0.4822, 0.4465};
  ctx.input.std = {0.2470, 0.2435, 0.2616};
  ctx.num_classes = 10;
  auto node = parse_yaml_string("name: resnet5", "bench");
  return Registry<ClassifierImpl>::get().make(Config(node, "model"), ctx);
}

Batch random_batch(int64_t n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  Batch b;
  b.x = at::rand({n, 3, 32, 32}, gen);
  b.y = at::randint(10, {n}, gen, torch::kLong);
  return b;
}

// The trainer for `flavor` with copies scaled by copies_pct/100.
std::unique_ptr<lr::LrTrainer> make_trainer(const std::string& flavor, ClassifierImpl& model, int64_t copies_pct) {
  std::string yaml = "name: " + flavor;
  if (const char* rows = std::getenv("LRB_CHUNK_ROWS")) yaml += std::string("\nchunk_rows: ") + rows;
  if (copies_pct != 100) {
    std::string list;
    for (int64_t c : {100, 200, 200, 100, 50}) list += (list.empty() ? "" : ", ") + std::to_string(c * copies_pct / 100);
    yaml += "\ncopies: [" + list + "]";
  }
  auto t = std::make_unique<lr::LrTrainer>(lr::LrOptions::from(Config(parse_yaml_string(yaml, "bench"), "trainer"), flavor));
  t->attach(model);
  return t;
}

void BM_GemmCeiling(benchmark::State& state) {
  at::set_num_threads(kThreads);
  const int64_t n = state.range(0);
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);
  for (auto _ : state) {
    torch::mm_out(c, a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmCeiling)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: batch, copies in percent of the paper's preset.
void lr_step(benchmark::State& state, const std::string& flavor) {
  at::set_num_threads(kThreads);
  auto model = make_resnet5();
  const int64_t batch = state.range(0);
  auto trainer = make_trainer(flavor, *model, state.range(1));
  auto b = random_batch(batch);
  bench::reset_peak_rss();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  for (auto _ : state) benchmark::DoNotOptimize(trainer->estimate_grad(*model, b, gen));
  bench::flop_counters(state, bench::lr_step_flops(*model, trainer->settings(), b));
  state.counters["peak_GB"] = bench::peak_rss_gb();
}
void BM_LrWlStep(benchmark::State& state) { lr_step(state, "lr-wl"); }
void BM_LrLStep(benchmark::State& state) { lr_step(state, "lr-l"); }
BENCHMARK(BM_LrWlStep)
    ->Args({100, 100})->Args({100, 10})->Args({50, 100})->Args({200, 100})
    ->Iterations(1)->Repetitions(3)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_LrLStep)->Args({100, 100})->Iterations(1)->Repetitions(3)->Unit(benchmark::kSecond)->UseRealTime();

// One ES step (OpenAI-ES, antithetic pairs) of the same model and batch. Args: population.
void BM_EsStep(benchmark::State& state) {
  at::set_num_threads(kThreads);
  auto model = make_resnet5();
  auto trainer = Registry<Trainer>::get().make(
      Config(parse_yaml_string("name: es\npopulation: " + std::to_string(state.range(0)), "bench"), "trainer"));
  trainer->attach(*model);
  auto b = random_batch(100);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  bench::reset_peak_rss();
  trainer->estimate_grad(*model, b, gen);  // warm-up: oneDNN primitives
  for (auto _ : state) benchmark::DoNotOptimize(trainer->estimate_grad(*model, b, gen));
  // Each member and the clean pass run the whole network on the batch.
  bench::flop_counters(state, 2.0 * bench::forward_macs(*model, b) * static_cast<double>(state.range(0) + 1));
  state.counters["peak_GB"] = bench::peak_rss_gb();
}
BENCHMARK(BM_EsStep)->Arg(50)->Iterations(1)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// Per-layer share of the LR-WL step (layer-wise injection: each layer's copies and suffix). Args: layer, copies
// in percent of the paper's preset.
void BM_LrWlLayer(benchmark::State& state) {
  at::set_num_threads(kThreads);
  torch::NoGradGuard ng;
  auto model = make_resnet5();
  auto trainer = make_trainer("lr-wl", *model, state.range(1));
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  lr::Engine engine(lm, trainer->settings(), trainer->sigmas());
  auto clean = engine.clean_pass(random_batch(100));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const int l = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(engine.layer(clean, l, {trainer->settings().layers[l].copies}, gen));
  bench::flop_counters(state, bench::lr_layer_flops(*model, trainer->settings(), l, clean.input));
}
BENCHMARK(BM_LrWlLayer)->ArgsProduct({{0, 1, 2, 3, 4}, {100, 10}})->Iterations(1)->Repetitions(3)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The back-propagation step of the same model and batch, for scale.
void BM_BpStep(benchmark::State& state) {
  at::set_num_threads(kThreads);
  auto model = make_resnet5();
  auto b = random_batch(state.range(0));
  for (auto _ : state) {
    model->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(b), b.y);
    loss.backward();
  }
}
BENCHMARK(BM_BpStep)->Arg(100)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// One LR-WL step (or, with LRB_LR_PROFILE_LAYER=l, one layer's estimate) under the op profiler, at the paper's
// copies or LRB_LR_PROFILE_COPIES percent of them.
void profile_one_step(const std::string& path) {
  at::set_num_threads(kThreads);
  torch::NoGradGuard ng;
  auto model = make_resnet5();
  const char* pct = std::getenv("LRB_LR_PROFILE_COPIES");
  auto trainer = make_trainer("lr-wl", *model, pct ? std::atoll(pct) : 100);
  auto b = random_batch(100);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const char* layer = std::getenv("LRB_LR_PROFILE_LAYER");
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  lr::Engine engine(lm, trainer->settings(), trainer->sigmas());
  auto clean = engine.clean_pass(b);
  auto run = [&] {
    if (!layer) return static_cast<void>(trainer->estimate_grad(*model, b, gen));
    const int l = std::atoi(layer);
    engine.layer(clean, l, {trainer->settings().layers[l].copies}, gen);
  };
  run();  // warm-up: oneDNN primitive creation
  torch::autograd::profiler::RecordProfile guard(path);
  run();
}

// Before the benchmarks: the thread environment (stderr) and the op profile LRB_LR_PROFILE asks for.
const bool kOnStart = bench::on_start([] {
  std::fprintf(stderr, "bench_lr_step: OMP_WAIT_POLICY=%s OPENBLAS_THREAD_TIMEOUT=%s\n", std::getenv("OMP_WAIT_POLICY"),
               std::getenv("OPENBLAS_THREAD_TIMEOUT"));
  if (const char* p = std::getenv("LRB_LR_PROFILE")) profile_one_step(p);
});

}  // namespace
