// One BP training step (forward, backward, Adam update) for the zoo's image models, CIFAR/MNIST shapes.
// Run: build/bench/bench_train_step --benchmark_repetitions=3   (threads: LRB_THREADS, default all cores)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/config.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "models/classifier.h"
#include "trainers/trainer.h"

namespace {

using namespace lrb;

void bp_step(benchmark::State& state, const std::string& model_yaml, std::vector<int64_t> shape) {
  const char* threads = std::getenv("LRB_THREADS");
  set_threads(threads ? threads : "auto");
  const int64_t batch = state.range(0);
  ModelContext ctx;
  ctx.input.shape = shape;
  if (shape[0] == 3) ctx.input.mean = {0.4914, 0.4822, 0.4465}, ctx.input.std = {0.2470, 0.2435, 0.2616};
  torch::manual_seed(0);
  auto model = Registry<ClassifierImpl>::get().make(Config(parse_yaml_string(model_yaml, "bench"), "model"), ctx);
  auto trainer = Registry<Trainer>::get().make(Config(parse_yaml_string("name: bp", "bench"), "trainer"));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  Batch b;
  std::vector<int64_t> full = {batch};
  full.insert(full.end(), shape.begin(), shape.end());
  b.x = torch::rand(full);
  b.y = torch::randint(10, {batch}, torch::kLong);
  auto gen = make_generator(0);
  for (auto _ : state) {
    trainer->estimate_grad(*model, b, gen);
    opt.step();
  }
  state.counters["threads"] = at::get_num_threads();
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_BpStep_ResNet5(benchmark::State& s) { bp_step(s, "name: resnet5", {3, 32, 32}); }
void BM_BpStep_Mlp(benchmark::State& s) { bp_step(s, "name: mlp\nhidden: [256]", {1, 28, 28}); }

}  // namespace

BENCHMARK(BM_BpStep_ResNet5)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BpStep_Mlp)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(1.0);
