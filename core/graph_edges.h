// Structure perturbations of an undirected simple graph, on its edge list (never a dense N x N matrix), so
// they scale to graphs far past Cora: memory linear in the edges plus the flips, time about linear too
// (a sort of the edge keys, then rejection sampling that rarely rejects on a sparse graph).
// Semantics: DeepRobust's global attacks (docs/ATTACKS.md §3), `Random(type='add')` and `DICE`:
//   random_insert  n uniformly chosen non-edges are inserted (the paper's "R.A.");
//   dice           per flip a fair coin: heads removes an edge between two nodes of the same label (drawn
//                  without replacement from the original edges), tails inserts a non-edge between two nodes
//                  of different labels. All labels are used (the attack knows them, by design).
// Deviations from DeepRobust, each keeping the stated flip count exact: a pair and its mirror are one flip
// (DR can accept (u,v) and (v,u) in one batch, counting two flips for one edge); self-loops are never
// edges here (DR's triu includes the diagonal, so it can "remove" a self-loop); when DICE's coin asks for
// more removals than there are same-label edges, the rest of the budget becomes insertions (DR silently
// flips fewer).
// Randomness: a splitmix64 stream from `seed` and Lemire's unbiased bounded integers, so a seed gives the
// same graph on every platform and compiler (std:: distributions are implementation-defined).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace lrb::graph {

// An undirected edge, stored once with first < second; node ids in [0, nodes).
using Edge = std::pair<int64_t, int64_t>;

struct Flips {
  std::vector<Edge> removed, inserted;  // each with first < second, in the order drawn
  int64_t size() const { return static_cast<int64_t>(removed.size() + inserted.size()); }
};

// DeepRobust's budget: int(rate x undirected edges), rounded toward zero. Throws std::invalid_argument
// for a negative rate.
int64_t budget(double rate, int64_t undirected_edges);

// The edge list as canonical sorted pairs (first < second, no duplicates, no self-loops). Throws
// std::invalid_argument naming the offending pair for a self-loop, an id outside [0, nodes) or a pair given
// twice (in either orientation): attacks must start from a simple graph.
std::vector<Edge> canonical(std::vector<Edge> edges, int64_t nodes);

// `n` non-edges chosen uniformly among all node pairs. `edges` canonical (see canonical()). Throws
// std::invalid_argument when the graph has fewer than n non-edges.
Flips random_insert(const std::vector<Edge>& edges, int64_t nodes, int64_t n, uint64_t seed);

// DICE with `n` flips; labels[i] is node i's class (size nodes). `edges` canonical. Throws
// std::invalid_argument when the insertions cannot be met (fewer non-edges between classes than asked).
Flips dice(const std::vector<Edge>& edges, const std::vector<int64_t>& labels, int64_t n, uint64_t seed);

// `edges` without `f.removed`, plus `f.inserted`; canonical and sorted.
std::vector<Edge> perturbed(const std::vector<Edge>& edges, const Flips& f);

}  // namespace lrb::graph
