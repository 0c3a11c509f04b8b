// VGG-8 LR-WL training step and attack throughput (images/s) for ResNet-5 and VGG-8, batch 100, 2 threads.
//   bench_eval --benchmark_filter=VGG8_LrWl     one LR-WL step of VGG-8, preset copies / divisor (arg)
//   bench_eval --benchmark_filter=Attack        FGSM / I-FGSM / MI-FGSM (5 steps) through the Victim
// The PyTorch side of the same attack steps: /usr/bin/python3 tools/bench_peer_attacks.py.
#include <ATen/CPUGeneratorImpl.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "bench/bench_flops.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "models/layered.h"
#include "models/classifier.h"
#include "threats/threat.h"
#include "threats/victim.h"
#include "trainers/lr/engine.h"
#include "trainers/lr/lr_trainer.h"

namespace {

using namespace lrb;

ClassifierImpl::Ptr make_model(const std::string& key) {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {3, 32, 32};
  ctx.input.mean = {0.4914, 0.4822, 0.4465};
  ctx.input.std = {0.2470, 0.2435, 0.2616};
  ctx.num_classes = 10;
  return Registry<ClassifierImpl>::get().make(Config(parse_yaml_string("name: " + key, "bench"), "model"), ctx);
}

// 2 unless LRB_BENCH_THREADS says otherwise (e.g. 1, to time one lane of the layer-wise engine).
int bench_threads() {
  const char* t = std::getenv("LRB_BENCH_THREADS");
  return t ? std::max(1, std::atoi(t)) : 2;
}

Batch random_batch(int64_t n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  Batch b;
  b.x = at::rand({n, 3, 32, 32}, gen);
  b.y = at::randint(10, {n}, gen, torch::kLong);
  return b;
}

void BM_VGG8_LrWlStep(benchmark::State& state) {
  keep_freed_memory();  // as lrbench does (core/runtime.h)
  at::set_num_threads(bench_threads());
  auto model = make_model("vgg8");
  auto yaml = "name: lr-wl\ncopies_divisor: " + std::to_string(state.range(0));
  lr::LrTrainer trainer(lr::LrOptions::from(Config(parse_yaml_string(yaml, "bench"), "trainer"), "lr-wl"));
  trainer.attach(*model);
  auto b = random_batch(100);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  bench::reset_peak_rss();
  trainer.estimate_grad(*model, b, gen);  // warm-up: allocator and oneDNN primitive caches
  for (auto _ : state) trainer.estimate_grad(*model, b, gen);
  bench::flop_counters(state, bench::lr_step_flops(*model, trainer.settings(), b));
  state.counters["peak_GB"] = bench::peak_rss_gb();
}
BENCHMARK(BM_VGG8_LrWlStep)->Arg(10)->Arg(1)->Iterations(1)->Repetitions(3)->Unit(benchmark::kSecond)->UseRealTime();

// One layer's share of the VGG-8 LR-WL step at copies ÷10 (LRB_LR_PROFILE=P also writes P.<layer>.json, the
// op profile of one estimate). Args: layer.
void BM_VGG8_LrWlLayer(benchmark::State& state) {
  keep_freed_memory();
  at::set_num_threads(bench_threads());
  torch::NoGradGuard ng;
  auto model = make_model("vgg8");
  lr::LrTrainer trainer(lr::LrOptions::from(Config(parse_yaml_string("name: lr-wl\ncopies_divisor: 10", "bench"), "trainer"), "lr-wl"));
  trainer.attach(*model);
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  lr::Engine engine(lm, trainer.settings(), trainer.sigmas());
  auto clean = engine.clean_pass(random_batch(100));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const int l = static_cast<int>(state.range(0));
  const std::vector<int64_t> copies{trainer.settings().layers[l].copies};
  engine.layer(clean, l, copies, gen);  // warm-up: oneDNN primitive caches
  if (const char* path = std::getenv("LRB_LR_PROFILE")) {  // a per-op profile of one estimate of layer l
    torch::autograd::profiler::RecordProfile guard(std::string(path) + "." + std::to_string(l) + ".json");
    engine.layer(clean, l, copies, gen);
  }
  for (auto _ : state) benchmark::DoNotOptimize(engine.layer(clean, l, copies, gen));
  bench::flop_counters(state, bench::lr_layer_flops(*model, trainer.settings(), l, clean.input));
}
BENCHMARK(BM_VGG8_LrWlLayer)->DenseRange(0, 7)->Iterations(1)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: model (0 resnet5, 1 vgg8), attack (0 fgsm, 1 i-fgsm, 2 mi-fgsm).
void BM_Attack(benchmark::State& state) {
  keep_freed_memory();
  at::set_num_threads(bench_threads());
  const char* models[] = {"resnet5", "vgg8"};
  const char* attacks[] = {"fgsm", "i-fgsm", "mi-fgsm"};
  auto model = make_model(models[state.range(0)]);
  for (auto& p : model->parameters()) p.set_requires_grad(false);  // as an LR/ES-trained model
  auto threat = make_threat(Config(parse_yaml_string(std::string("name: ") + attacks[state.range(1)], "bench"), "t"));
  auto& attack = dynamic_cast<Attack&>(*threat);
  auto b = random_batch(100);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  for (auto _ : state) {
    Victim v(*model);
    benchmark::DoNotOptimize(attack.perturb(v, b, gen).x);
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetLabel(std::string(models[state.range(0)]) + " " + attacks[state.range(1)]);
}
BENCHMARK(BM_Attack)->ArgsProduct({{0, 1}, {0, 1, 2}})->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
