// The part the graph attacks (random-edge, dice) share: moving between a graph Batch and the edge list
// that core/graph_edges.h perturbs, and giving the perturbed graph a rebuilt Â (a cached propagation
// matrix would leave the attack without effect: docs/ATTACKS.md §3.4 pitfall 1).
#pragma once
#include <ATen/core/Generator.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/graph_edges.h"

namespace lrb::graph {

// The edge budget: `rate` (DeepRobust's ptb_rate, in (0, 1]) times the edge count, counted on undirected edges
// (`budget_unit: undirected`, the default: DeepRobust's adj.sum() // 2) or on directed ones (`directed`: each
// undirected edge twice, as an adjacency matrix's nonzeros are, so twice the flips; the paper does not say which).
// A flip always inserts or removes one undirected edge.
struct EdgeBudget {
  double rate = 0.1;
  bool directed = false;
  int64_t flips(int64_t undirected_edges) const;
  std::string params() const;  // threat_params: "rate=R", plus ";budget_unit=directed" when so
  // The attack's metric: `base` ("RA", "DICE"), or "RA (directed)" for a directed budget, a column of its own so a
  // suite can hold both units.
  std::string metric(const std::string& base) const;
};
EdgeBudget read_budget(const Config& c);

// The whole of a graph attack's perturb(): checks `clean`, reads its canonical edge list, asks `flips` for
// the budget's flips (given the edges, that count and a seed drawn from `gen`), and returns `clean` with the
// perturbed edges and its Â rebuilt.
using FlipFn = std::function<Flips(const Batch& clean, const std::vector<Edge>& edges, int64_t n, uint64_t seed)>;
Batch perturb_edges(const Batch& clean, const char* attack, const EdgeBudget& budget, at::Generator& gen,
                    const FlipFn& flips);

// edge_index int64 [2, E] (each undirected edge once) -> canonical edge list. Throws std::invalid_argument
// (canonical()) on a self-loop or a duplicate.
std::vector<Edge> edge_list(const torch::Tensor& edge_index, int64_t nodes);
// `clean` with edge_index [2, E'] (u < v) from `edges` and adj = normalized_adjacency of it, on clean's device.
Batch with_edges(const Batch& clean, const std::vector<Edge>& edges);
// A 64-bit seed for the edge sampler from the evaluator's generator (its stream is seeded per threat and
// params, so every rate draws independently).
uint64_t draw_seed(at::Generator& gen);
// Throws std::invalid_argument unless `b` is a graph batch with edge_index [2, E] and labels for every node.
void check_graph(const Batch& b, const char* attack);

}  // namespace lrb::graph
