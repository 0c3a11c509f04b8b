// Graph structure perturbations past Cora's size (issue: "a generated graph of 100,000 nodes and 1,000,000
// edges must run in seconds and memory linear in edges"): random edge insertion and DICE at rate 1.0
// (1,000,000 flips), and rebuilding the edge list. Peak memory: run under /usr/bin/time -v.
//   build/bench/bench_graph --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/graph_edges.h"

namespace {

using lrb::graph::Edge;

struct Big {
  int64_t nodes = 100000;
  std::vector<Edge> edges;
  std::vector<int64_t> labels;
  Big() {
    uint64_t s = 42;
    auto next = [&] { s = s * 6364136223846793005ull + 1442695040888963407ull; return s >> 17; };
    labels.resize(nodes);
    for (auto& l : labels) l = static_cast<int64_t>(next() % 7);
    edges.reserve(1100000);
    while (edges.size() < 1100000) {
      auto u = static_cast<int64_t>(next() % nodes), v = static_cast<int64_t>(next() % nodes);
      if (u != v) edges.push_back({std::min(u, v), std::max(u, v)});
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    edges.resize(1000000);
    edges = lrb::graph::canonical(std::move(edges), nodes);
  }
};

const Big& big() {
  static const Big b;
  return b;
}

void BM_RandomInsertRate1(benchmark::State& st) {
  const auto& g = big();
  uint64_t seed = 0;
  for (auto _ : st) {
    auto f = lrb::graph::random_insert(g.edges, g.nodes, lrb::graph::budget(1.0, 1000000), ++seed);
    benchmark::DoNotOptimize(f.inserted.data());
  }
}
BENCHMARK(BM_RandomInsertRate1)->Unit(benchmark::kMillisecond);

void BM_DiceRate1(benchmark::State& st) {
  const auto& g = big();
  uint64_t seed = 0;
  for (auto _ : st) {
    auto f = lrb::graph::dice(g.edges, g.labels, lrb::graph::budget(1.0, 1000000), ++seed);
    benchmark::DoNotOptimize(f.removed.data());
  }
}
BENCHMARK(BM_DiceRate1)->Unit(benchmark::kMillisecond);

void BM_PerturbedEdgeList(benchmark::State& st) {
  const auto& g = big();
  auto f = lrb::graph::dice(g.edges, g.labels, 1000000, 1);
  for (auto _ : st) benchmark::DoNotOptimize(lrb::graph::perturbed(g.edges, f).data());
}
BENCHMARK(BM_PerturbedEdgeList)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
