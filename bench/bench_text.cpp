// Recurrent text models (Table 2): one LR step of the LSTM (the lr-l trainer with the model's preset:
// logit noise at every time step on both linear maps, the embedding and the head) beside its BPTT step.
// Batch 64 of AG News-like length: token ids over a 12,500-word vocabulary, true lengths drawn from 27..75
// (AG News' 10th..99th length percentile, median 38) so the loop runs to the batch's longest, like real
// batches under the dataset's max_len 100.
//   bench_text --benchmark_filter=Lstm     args: copies (LR), joint (1) or layer-wise (0)
#include <ATen/CPUGeneratorImpl.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_flops.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "trainers/lr/lr_trainer.h"

namespace {

using namespace lrb;

constexpr int kThreads = 2;
constexpr int64_t kBatch = 64, kVocab = 12500, kMaxLen = 100;

ClassifierImpl::Ptr make_model(const std::string& key) {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {kMaxLen};
  ctx.input.vocab_size = kVocab;
  ctx.num_classes = 4;
  return Registry<ClassifierImpl>::get().make(Config(parse_yaml_string("name: " + key, "bench"), "model"), ctx);
}

Batch text_batch() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  Batch b;
  b.modality = Modality::kText;
  b.lengths = at::randint(27, 76, {kBatch}, gen, torch::kLong);
  b.x = at::randint(2, kVocab, {kBatch, kMaxLen}, gen, torch::kLong);
  b.x.masked_fill_(torch::arange(kMaxLen).unsqueeze(0).ge(b.lengths.unsqueeze(1)), 0);  // <pad>
  b.y = at::randint(4, {kBatch}, gen, torch::kLong);
  return b;
}

void lr_step(benchmark::State& state, const std::string& key) {
  at::set_num_threads(kThreads);
  auto model = make_model(key);
  std::string yaml = "name: lr-l\ncopies: [" + std::to_string(state.range(0)) + "]\nlayerwise: " +
                     (state.range(1) ? "false" : "true");
  lr::LrTrainer trainer(lr::LrOptions::from(Config(parse_yaml_string(yaml, "bench"), "trainer"), "lr-l"));
  trainer.attach(*model);
  auto b = text_batch();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  bench::reset_peak_rss();
  for (auto _ : state) benchmark::DoNotOptimize(trainer.estimate_grad(*model, b, gen));
  state.counters["steps"] = b.lengths.max().item<double>();
  bench::flop_counters(state, bench::lr_step_flops(*model, trainer.settings(), b));
  state.counters["peak_GB"] = bench::peak_rss_gb();
}
void BM_LstmLrStep(benchmark::State& state) { lr_step(state, "lstm"); }
void BM_RnnLrStep(benchmark::State& state) { lr_step(state, "rnn"); }
BENCHMARK(BM_LstmLrStep)->Args({100, 1})->Args({100, 0})->Args({20, 1})->Iterations(1)->Repetitions(3)
    ->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_RnnLrStep)->Args({100, 1})->Iterations(1)->Repetitions(3)->Unit(benchmark::kSecond)->UseRealTime();

// BPTT through the same cell loop: forward, cross-entropy, backward.
void bptt_step(benchmark::State& state, const std::string& key) {
  at::set_num_threads(kThreads);
  auto model = make_model(key);
  auto b = text_batch();
  for (auto _ : state) {
    model->zero_grad();
    torch::nn::functional::cross_entropy(model->forward(b), b.y).backward();
  }
}
void BM_LstmBpttStep(benchmark::State& state) { bptt_step(state, "lstm"); }
void BM_RnnBpttStep(benchmark::State& state) { bptt_step(state, "rnn"); }
BENCHMARK(BM_LstmBpttStep)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RnnBpttStep)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// Inference on many candidate texts at once, the text attacks' unit of work (queries per second).
void BM_LstmQueries(benchmark::State& state) {
  at::set_num_threads(kThreads);
  torch::NoGradGuard ng;
  auto model = make_model("lstm");
  model->eval();
  auto b = text_batch();
  auto big = b.rows(torch::arange(kBatch).repeat({state.range(0) / kBatch}));
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(big));
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(big.x.size(0) * state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LstmQueries)->Arg(512)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
