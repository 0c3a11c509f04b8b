// Addressable noise (issue: scale-out, part 1): a copy's noise is a pure function of (step key, layer, call,
// copy, row), so the estimate does not depend on the chunk shape, and shares of the copies computed apart
// (ranks) add up to the whole. The tolerance is floating-point summation order in double: 1e-9 of the
// estimate's largest entry (chunk sizes and shares only regroup the same terms).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/counter_normal.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "tests/unit/lr/tiny_models.h"
#include "tests/unit/lr/tiny_sites.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

// Random123's known-answer vectors for Philox4x32-10 (kat_vectors): counter, key -> output.
TEST(CounterNormal, PhiloxMatchesKnownAnswers) {
  struct Kat {
    uint32_t ctr[4], k0, k1, out[4];
  } kats[] = {
      {{0, 0, 0, 0}, 0, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, 0xffffffff, 0xffffffff,
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0,
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (auto& k : kats) {
    philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(k.ctr[i], k.out[i]) << i;
  }
}

// A row's first n values do not depend on n; rows, copies and keys give other values; and 2^22 draws have
// the moments of N(0, 1) (tolerances: ~5 standard errors of each moment at this n, seed fixed).
TEST(CounterNormal, PrefixStableAndStandardNormal) {
  std::vector<float> a(1000), b(300), c(300);
  counter_normal(7, 3, 5, 1000, a.data());
  counter_normal(7, 3, 5, 300, b.data());
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin()));
  counter_normal(7, 3, 6, 300, c.data());
  EXPECT_NE(b, c);
  counter_normal(8, 3, 5, 300, c.data());
  EXPECT_NE(b, c);
  const int64_t rows = 1024, dim = 4096;
  std::vector<float> x(rows * dim);
  for (int64_t r = 0; r < rows; ++r) counter_normal(11, static_cast<uint32_t>(r / 32), static_cast<uint32_t>(r % 32), dim, &x[r * dim]);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, tail = 0;
  for (float v : x) m1 += v, m2 += v * v, m3 += v * v * v, m4 += double(v) * v * v * v, tail += std::fabs(v) > 3;
  const double n = static_cast<double>(x.size());
  EXPECT_NEAR(m1 / n, 0.0, 5 * std::sqrt(1 / n));
  EXPECT_NEAR(m2 / n, 1.0, 5 * std::sqrt(2 / n));
  EXPECT_NEAR(m3 / n, 0.0, 5 * std::sqrt(15 / n));
  EXPECT_NEAR(m4 / n, 3.0, 5 * std::sqrt(96 / n));
  EXPECT_NEAR(tail / n, 0.0026998, 5 * std::sqrt(0.0027 / n));
}

std::vector<torch::Tensor> flat(const std::vector<LayerGrad>& g) {
  std::vector<torch::Tensor> out;
  for (const auto& x : g) {
    std::vector<torch::Tensor> parts;
    for (const auto* t : {&x.weight, &x.bias, &x.log_sigma})
      if (t->defined()) parts.push_back(t->flatten());
    out.push_back(parts.empty() ? torch::Tensor() : torch::cat(parts));
  }
  return out;
}

void expect_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t l = 0; l < a.size(); ++l) {
    ASSERT_EQ(a[l].defined(), b[l].defined()) << what << " layer " << l;
    if (!a[l].defined()) continue;
    const double scale = a[l].abs().max().item<double>();
    ASSERT_GT(scale, 0) << what;
    EXPECT_LE((a[l] - b[l]).abs().max().item<double>(), 1e-9 * scale) << what << " layer " << l;
  }
}

struct Setup {
  std::vector<Mode> modes;
  bool per_row = true, antithetic = true, sigma_grad = false, joint = false;
  Source source = Source::kMC;
  bool sum_shared = true;
};

// The estimate of every noisy layer (layer-wise, or one joint pass) for one step key.
std::vector<torch::Tensor> run(LayeredModel& m, const Batch& b, const Setup& k, int64_t chunk_rows, int rank = 0,
                               int world = 1) {
  torch::NoGradGuard no_grad;
  EngineSettings s;
  std::vector<torch::Tensor> sig;
  const auto layers = m.layers();
  for (size_t l = 0; l < layers.size(); ++l) {
    s.layers.push_back({k.modes[l], 12, k.modes[l] == Mode::kWeight ? 1e-3 : 1e-2, k.per_row});
    sig.push_back(torch::full({layers[l].weight().size(0)}, s.layers[l].sigma0, torch::kDouble));
  }
  s.antithetic = k.antithetic;
  s.sigma_grad = k.sigma_grad;
  s.source = k.source;
  s.chunk_rows = chunk_rows;
  s.sum_shared_calls = k.sum_shared;
  Engine e(m, s, sig);
  e.shard(rank, world);
  auto clean = e.clean_pass(b);
  const uint64_t key = 0x5eed;
  if (k.joint) return flat(e.joint(clean, {12}, key).front());
  std::vector<LayerGrad> g(layers.size());
  for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l)  // any order: each layer has its own stream
    if (k.modes[l] != Mode::kNone) g[l] = e.layer(clean, l, {12}, key).front();
  return flat(g);
}

void check(LayeredModel& m, const Batch& b, const Setup& k, const std::string& what, bool chunks = true) {
  const auto whole = run(m, b, k, 0);
  if (chunks)
    for (int64_t rows : {1, 5, 13}) expect_close(whole, run(m, b, k, rows), what + " chunk_rows " + std::to_string(rows));
  for (int world : {2, 3, 5}) {
    auto sum = run(m, b, k, 0, 0, world);
    for (int r = 1; r < world; ++r) {
      auto part = run(m, b, k, 0, r, world);
      for (size_t l = 0; l < sum.size(); ++l)
        if (sum[l].defined()) sum[l] += part[l];
    }
    expect_close(whole, sum, what + " " + std::to_string(world) + " shards");
  }
}

TEST(Addressable, ChainModelsAnyChunkAnyShard) {
  torch::manual_seed(3);
  test::TinyConv conv;
  conv.to(torch::kDouble);
  auto b = test::tiny_batch({2, 5, 5}, 9, 3, 4);
  check(conv, b, {{Mode::kWeight, Mode::kLogit}, true, true, true}, "conv weight/row + logit, learned sigma");
  check(conv, b, {{Mode::kWeight, Mode::kNone}, false}, "conv weight/copy");
  check(conv, b, {{Mode::kLogit, Mode::kLogit}, true, false}, "conv logit, no antithetic");
  check(conv, b, {{Mode::kLogit, Mode::kWeight}, true, true, false, false, Source::kSobol}, "conv Sobol");
  check(conv, b, {{Mode::kWeight, Mode::kLogit}, true, true, true, true}, "conv joint");
  check(conv, b, {{Mode::kLogit, Mode::kWeight}, true, true, false, true, Source::kSobol}, "conv joint Sobol");
}

TEST(Addressable, HookedAndCoupledModels) {
  torch::manual_seed(5);
  test::TinyRnn rnn;
  rnn.to(torch::kDouble);
  auto text = test::tiny_text(6, 4, 3);
  check(rnn, text, {{Mode::kNone, Mode::kLogit, Mode::kNone}}, "rnn layer-wise (hook path)");
  check(rnn, text, {{Mode::kLogit, Mode::kWeight, Mode::kLogit}, true, true, true, true}, "rnn joint");
  test::TinyGcn gcn;
  gcn.to(torch::kDouble);
  auto graph = test::tiny_graph(3);
  // A graph's copies are never split by rows, so only the shares are checked.
  check(gcn, graph, {{Mode::kWeight, Mode::kLogit}, false, true, false, true}, "gcn joint", false);
  check(gcn, graph, {{Mode::kNone, Mode::kLogit}}, "gcn layer-wise", false);
}

// A model with concurrent_copies() has its hook path's chunks run in lanes on threads of their own: the estimate is
// the sequential one up to summation order, and the same bit for bit whatever the number of threads (the lanes, not
// the threads, fix the order of the sums).
TEST(Addressable, ConcurrentLanesOfARecurrentModel) {
  torch::manual_seed(5);
  test::TinyRnn rnn;
  rnn.to(torch::kDouble);
  auto text = test::tiny_text(6, 4, 3);
  const ::lrb::lr::Setup joint{{Mode::kLogit, Mode::kWeight, Mode::kLogit}, true, true, true, true};
  const ::lrb::lr::Setup site{{Mode::kNone, Mode::kLogit, Mode::kNone}};
  const int threads = at::get_num_threads();
  for (const auto* k : {&joint, &site}) {
    const std::string what = k == &joint ? "rnn joint" : "rnn layer-wise";
    rnn.concurrent = false;
    const auto sequential = run(rnn, text, *k, 2);  // 36 chunks of 2 rows: every lane gets several
    rnn.concurrent = true;
    at::set_num_threads(2);
    rnn.threads.clear();
    const auto two = run(rnn, text, *k, 2);
    // The sequential path runs on this thread; the lanes on threads of their own (which of the two takes a lane is
    // the scheduler's, so only "not here" is certain).
    EXPECT_FALSE(rnn.threads.empty() || rnn.threads.count(std::this_thread::get_id()))
        << what << ": the chunks did not run in lanes on threads of their own";
    at::set_num_threads(1);
    const auto one = run(rnn, text, *k, 2);
    at::set_num_threads(threads);
    expect_close(sequential, two, what + ", lanes on 2 threads");
    for (size_t l = 0; l < two.size(); ++l) {
      if (!two[l].defined()) continue;
      EXPECT_TRUE(torch::equal(two[l], one[l])) << what << " layer " << l << ": 1 vs 2 threads";
    }
  }
  check(rnn, text, joint, "rnn joint, concurrent lanes");
  rnn.concurrent = false;
}

// A chain with concurrent_copies() has its layer-wise chunks (suffix passes) run on threads of their own, their
// parts added in chunk order: the estimate is the sequential one up to summation order (the sequential path splits
// each op over two threads), and the same bit for bit on one thread or two. The MLP's per-copy weight noise is drawn
// once per copy range, whichever chunk of the range starts first.
TEST(Addressable, ConcurrentChunksOfAChain) {
  torch::manual_seed(4);
  test::TinyConv conv;
  test::TinyMlp mlp;
  conv.to(torch::kDouble);
  mlp.to(torch::kDouble);
  const auto image = test::tiny_batch({2, 5, 5}, 9, 3, 4);
  const auto flat = test::tiny_batch({8}, 9, 3, 5);
  const int threads = at::get_num_threads();
  auto chunks_on_threads = [&](LayeredModel& m, test::NoisyPassThreads& t, const Batch& b, const ::lrb::lr::Setup& k,
                               const std::string& what) {
    t.concurrent = false;
    at::set_num_threads(2);
    const auto sequential = run(m, b, k, 2);  // 2-row chunks: dozens per layer
    t.concurrent = true;
    t.threads.clear();
    const auto two = run(m, b, k, 2);
    EXPECT_FALSE(t.threads.empty() || t.threads.count(std::this_thread::get_id()))
        << what << ": the chunks did not run on threads of their own";
    at::set_num_threads(1);
    const auto one = run(m, b, k, 2);
    at::set_num_threads(threads);
    expect_close(sequential, two, what + ", chunks on 2 threads");
    // MKL (the LibTorch 2.x wheel's BLAS) blocks its products by its own thread count, which a worker cannot set
    // (core/runtime.cpp), and so do the weight-gradient products on the caller's threads: there, close is all.
    if (at::globalContext().hasMKL()) expect_close(one, two, what + ", 1 vs 2 threads (MKL)");
    for (size_t l = 0; l < two.size() && !at::globalContext().hasMKL(); ++l) {
      if (!two[l].defined()) continue;
      EXPECT_TRUE(torch::equal(two[l], one[l])) << what << " layer " << l << ": 1 vs 2 threads";
    }
    check(m, b, k, what + ", concurrent");
    t.concurrent = false;
  };
  chunks_on_threads(conv, conv, image, {{Mode::kWeight, Mode::kLogit}, true, true, true},
                    "conv weight/row + logit, learned sigma");
  chunks_on_threads(mlp, mlp, flat, {{Mode::kWeight, Mode::kWeight}, false, true, true},
                    "mlp weight/copy, learned sigma");
  chunks_on_threads(mlp, mlp, flat, {{Mode::kLogit, Mode::kLogit}, true, false}, "mlp logit, no antithetic pairs");
  // A concurrent chain's joint pass (layerwise: false) takes the hook path's lanes.
  chunks_on_threads(conv, conv, image, {{Mode::kWeight, Mode::kLogit}, true, true, true, true}, "conv joint");
}

// A Poisson-coded spiking net (model.encoding=poisson) draws its input spikes per image, not per batch position:
// an LR chunk of rows (and another process's share) must see the very spikes the clean pass saw, or its copies
// would differ from the clean pass by more than their noise.
TEST(Addressable, PoissonCodedSpikingNet) {
  torch::manual_seed(9);
  ModelContext ctx;
  ctx.input.shape = {2, 3, 3};
  ctx.num_classes = 3;
  auto m = Registry<ClassifierImpl>::get().make(
      Config(parse_yaml_string("name: snn\nhidden: [4]\nsteps: 3\nthreshold: 0.3\nencoding: poisson", "t.yaml"), ""),
      ctx);
  m->to(torch::kDouble);
  auto& snn = dynamic_cast<LayeredModel&>(*m);
  auto b = test::tiny_batch({2, 3, 3}, 9, 3, 4);
  b.x = b.x.sigmoid();
  check(snn, b, {{Mode::kLogit, Mode::kLogit}}, "snn poisson layer-wise");
  check(snn, b, {{Mode::kLogit, Mode::kLogit}, true, true, false, true}, "snn poisson joint");
  // Each step's spikes are a shared call the clean pass did not see: the shortcut (one product, the copies' terms
  // summed) gives the estimate that tiling the input per copy gives.
  for (bool joint : {false, true}) {
    ::lrb::lr::Setup fast{{Mode::kLogit, Mode::kLogit}, true, true, false, joint};
    auto tiled = fast;
    tiled.sum_shared = false;
    expect_close(run(snn, b, tiled, 0), run(snn, b, fast, 0), joint ? "snn poisson joint, tiled" : "snn poisson, tiled");
  }
}

}  // namespace
}  // namespace lrb::lr
