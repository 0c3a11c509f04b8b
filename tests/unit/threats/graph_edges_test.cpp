// Invariants of the edge-list graph perturbations (core/graph_edges.h) at every rate the table-3 suite
// sweeps: exact flip count, canonical simple graph (symmetric by construction, no self-loops, no
// duplicates), DICE's same-label removals / different-label insertions only, same seed -> same graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "core/graph_edges.h"

namespace lrb::graph {
namespace {

struct Graph {
  int64_t nodes;
  std::vector<Edge> edges;
  std::vector<int64_t> labels;
};

// A fixed random graph: `nodes` nodes, about `m` edges, 4 classes, and homophily like a citation graph
// (3 of 4 candidate edges kept only when same-label), so both DICE moves have room.
Graph make_graph(int64_t nodes, int64_t m, uint64_t seed) {
  Graph g{nodes, {}, std::vector<int64_t>(nodes)};
  uint64_t s = seed;
  auto next = [&] { s = s * 6364136223846793005ull + 1442695040888963407ull; return s >> 33; };
  for (auto& l : g.labels) l = static_cast<int64_t>(next() % 4);
  std::set<Edge> set;
  while (static_cast<int64_t>(set.size()) < m) {
    int64_t u = static_cast<int64_t>(next() % nodes), v = static_cast<int64_t>(next() % nodes);
    if (u == v) continue;
    if (g.labels[u] != g.labels[v] && next() % 4 != 0) continue;
    set.insert({std::min(u, v), std::max(u, v)});
  }
  g.edges.assign(set.begin(), set.end());
  return g;
}

void expect_simple(const std::vector<Edge>& e, int64_t nodes) {
  for (const auto& x : e) ASSERT_LT(x.first, x.second);
  EXPECT_NO_THROW(canonical(e, nodes));
}

TEST(GraphEdges, RandomInsertInvariantsAtEveryRate) {
  auto g = make_graph(300, 900, 1);
  const std::set<Edge> original(g.edges.begin(), g.edges.end());
  for (int r = 1; r <= 10; ++r) {
    const int64_t n = budget(0.1 * r, static_cast<int64_t>(g.edges.size()));
    EXPECT_EQ(n, static_cast<int64_t>(0.1 * r * 900));
    auto f = random_insert(g.edges, g.nodes, n, 100 + r);
    EXPECT_TRUE(f.removed.empty());
    ASSERT_EQ(f.size(), n) << "rate " << 0.1 * r;
    for (const auto& e : f.inserted) EXPECT_EQ(original.count(e), 0u) << "an existing edge was inserted";
    auto out = perturbed(g.edges, f);
    EXPECT_EQ(out.size(), g.edges.size() + static_cast<size_t>(n));
    expect_simple(out, g.nodes);  // also: no pair inserted twice
    EXPECT_EQ(random_insert(g.edges, g.nodes, n, 100 + r).inserted, f.inserted) << "same seed, same graph";
  }
  EXPECT_NE(random_insert(g.edges, g.nodes, 50, 1).inserted, random_insert(g.edges, g.nodes, 50, 2).inserted);
}

TEST(GraphEdges, DiceRemovesWithinAndInsertsAcrossClasses) {
  auto g = make_graph(300, 900, 2);
  const std::set<Edge> original(g.edges.begin(), g.edges.end());
  for (int r = 1; r <= 10; ++r) {
    const int64_t n = budget(0.1 * r, static_cast<int64_t>(g.edges.size()));
    auto f = dice(g.edges, g.labels, n, 200 + r);
    ASSERT_EQ(f.size(), n) << "rate " << 0.1 * r;
    for (const auto& e : f.removed) {
      EXPECT_EQ(original.count(e), 1u);
      EXPECT_EQ(g.labels[e.first], g.labels[e.second]);
    }
    for (const auto& e : f.inserted) {
      EXPECT_EQ(original.count(e), 0u);
      EXPECT_NE(g.labels[e.first], g.labels[e.second]);
    }
    EXPECT_EQ(std::set<Edge>(f.removed.begin(), f.removed.end()).size(), f.removed.size()) << "a removal repeated";
    auto out = perturbed(g.edges, f);
    EXPECT_EQ(out.size(), g.edges.size() - f.removed.size() + f.inserted.size());
    expect_simple(out, g.nodes);
    auto again = dice(g.edges, g.labels, n, 200 + r);
    EXPECT_EQ(again.removed, f.removed);
    EXPECT_EQ(again.inserted, f.inserted);
  }
}

// The coin is fair: removals ~ Binomial(n, 1/2). n = 900: sd 15, the bound is 5 sd.
TEST(GraphEdges, DiceCoinIsFair) {
  auto g = make_graph(300, 900, 3);
  auto f = dice(g.edges, g.labels, 900, 7);
  EXPECT_NEAR(static_cast<double>(f.removed.size()), 450.0, 75.0);
}

// More heads than same-label edges: every same-label edge goes, the rest of the budget is insertions.
TEST(GraphEdges, DiceKeepsTheFlipCountWhenSameLabelEdgesRunOut) {
  std::vector<int64_t> labels{0, 0, 1, 1, 2, 2, 3, 3};
  std::vector<Edge> edges{{0, 1}, {0, 2}, {2, 4}};  // one same-label edge
  auto f = dice(edges, labels, 10, 3);
  EXPECT_EQ(f.size(), 10);
  EXPECT_LE(f.removed.size(), 1u);
}

// Every non-edge is equally likely: 4 nodes, 2 edges, so 4 non-edges; 4,000 single insertions put
// ~1,000 on each; χ²(3) < 16.3 (P = 0.001).
TEST(GraphEdges, RandomInsertIsUniformOverNonEdges) {
  std::vector<Edge> edges{{0, 1}, {2, 3}};
  std::map<Edge, int> count;
  for (uint64_t s = 0; s < 4000; ++s) ++count[random_insert(edges, 4, 1, s).inserted.at(0)];
  ASSERT_EQ(count.size(), 4u);
  double chi2 = 0;
  for (const auto& [e, c] : count) chi2 += (c - 1000.0) * (c - 1000.0) / 1000.0;
  EXPECT_LT(chi2, 16.3);
}

TEST(GraphEdges, BadInputIsRefused) {
  EXPECT_THROW(canonical({{1, 1}}, 3), std::invalid_argument);          // self-loop
  EXPECT_THROW(canonical({{0, 1}, {1, 0}}, 3), std::invalid_argument);  // the same edge twice
  EXPECT_THROW(canonical({{0, 3}}, 3), std::invalid_argument);          // node out of range
  EXPECT_EQ(canonical({{2, 0}, {1, 0}}, 3), (std::vector<Edge>{{0, 1}, {0, 2}}));
  EXPECT_THROW(random_insert({{0, 1}}, 3, 3, 0), std::invalid_argument);  // 2 non-edges only
  EXPECT_THROW(dice({}, {0, 0, 1}, 5, 0), std::invalid_argument);         // 2 pairs across classes
  EXPECT_THROW(budget(-0.1, 10), std::invalid_argument);
  EXPECT_EQ(budget(0.3, 5278), 1583);  // int(0.3 x 5278) = int(1583.4)
}

}  // namespace
}  // namespace lrb::graph
