#include "core/graph_edges.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace lrb::graph {
namespace {

// splitmix64 (Steele, Lea, Flood 2014) as a stream; below() is Lemire's nearly-divisionless unbiased
// bounded integer (ACM TOMACS 2019).
struct Stream {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) {
    __uint128_t m = static_cast<__uint128_t>(next()) * bound;
    auto low = static_cast<uint64_t>(m);
    if (low < bound) {
      const uint64_t floor = -bound % bound;
      while (low < floor) {
        m = static_cast<__uint128_t>(next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // A uniformly chosen unordered pair of distinct nodes, as (smaller, larger).
  Edge pair(int64_t nodes) {
    const auto u = static_cast<int64_t>(below(static_cast<uint64_t>(nodes)));
    auto v = static_cast<int64_t>(below(static_cast<uint64_t>(nodes - 1)));
    if (v >= u) ++v;
    return u < v ? Edge{u, v} : Edge{v, u};
  }
};

// Membership in a canonical edge list without a hash of every edge: binary search on its sorted keys.
class Sorted {
 public:
  Sorted(const std::vector<Edge>& edges, int64_t nodes) : nodes_(static_cast<uint64_t>(nodes)) {
    keys_.reserve(edges.size());
    for (const auto& e : edges) keys_.push_back(key(e));
    std::sort(keys_.begin(), keys_.end());
  }
  uint64_t key(const Edge& e) const { return static_cast<uint64_t>(e.first) * nodes_ + static_cast<uint64_t>(e.second); }
  bool has(const Edge& e) const { return std::binary_search(keys_.begin(), keys_.end(), key(e)); }

 private:
  uint64_t nodes_;
  std::vector<uint64_t> keys_;
};

std::string show(const Edge& e) { return "(" + std::to_string(e.first) + ", " + std::to_string(e.second) + ")"; }

// Draws `n` pairs accepted by `ok` that are neither edges nor drawn before.
void insert(Flips& f, const std::vector<Edge>& edges, int64_t nodes, int64_t n, Stream& rng,
            bool (*ok)(const Edge&, const void*), const void* arg) {
  Sorted original(edges, nodes);
  std::unordered_set<uint64_t> drawn;
  drawn.reserve(static_cast<size_t>(n) * 2);
  f.inserted.reserve(f.inserted.size() + static_cast<size_t>(n));
  while (n > 0) {
    const Edge e = rng.pair(nodes);
    if (!ok(e, arg) || original.has(e) || !drawn.insert(original.key(e)).second) continue;
    f.inserted.push_back(e);
    --n;
  }
}

void check_nodes(int64_t nodes) {
  if (nodes < 2 || nodes > (int64_t{1} << 31))
    throw std::invalid_argument("graph perturbation: node count " + std::to_string(nodes) + " outside [2, 2^31]");
}

}  // namespace

int64_t budget(double rate, int64_t undirected_edges) {
  if (!(rate >= 0) || !std::isfinite(rate)) throw std::invalid_argument("graph perturbation: rate must be >= 0");
  return static_cast<int64_t>(rate * static_cast<double>(undirected_edges));
}

std::vector<Edge> canonical(std::vector<Edge> edges, int64_t nodes) {
  check_nodes(nodes);
  for (auto& e : edges) {
    if (e.first == e.second || std::min(e.first, e.second) < 0 || std::max(e.first, e.second) >= nodes)
      throw std::invalid_argument("graph perturbation: edge " + show(e) + " is a self-loop or names a node outside [0, " +
                                  std::to_string(nodes) + ")");
    if (e.first > e.second) std::swap(e.first, e.second);
  }
  std::sort(edges.begin(), edges.end());
  auto dup = std::adjacent_find(edges.begin(), edges.end());
  if (dup != edges.end()) throw std::invalid_argument("graph perturbation: edge " + show(*dup) + " is listed twice");
  return edges;
}

Flips random_insert(const std::vector<Edge>& edges, int64_t nodes, int64_t n, uint64_t seed) {
  check_nodes(nodes);
  const int64_t pairs = nodes * (nodes - 1) / 2, free = pairs - static_cast<int64_t>(edges.size());
  if (n < 0 || n > free)
    throw std::invalid_argument("random edge insertion: " + std::to_string(n) + " insertions asked, the graph has " +
                                std::to_string(free) + " non-edges");
  Flips f;
  Stream rng{seed};
  insert(f, edges, nodes, n, rng, [](const Edge&, const void*) { return true; }, nullptr);
  return f;
}

Flips dice(const std::vector<Edge>& edges, const std::vector<int64_t>& labels, int64_t n, uint64_t seed) {
  const auto nodes = static_cast<int64_t>(labels.size());
  check_nodes(nodes);
  if (n < 0) throw std::invalid_argument("DICE: negative flip count");
  Stream rng{seed};
  int64_t heads = 0;
  for (int64_t i = 0; i < n; ++i) heads += static_cast<int64_t>(rng.next() >> 63);
  std::vector<Edge> intra;
  int64_t inter_edges = 0;
  for (const auto& e : edges) {
    if (labels[e.first] == labels[e.second])
      intra.push_back(e);
    else
      ++inter_edges;
  }
  Flips f;
  const auto n_remove = std::min<int64_t>(heads, static_cast<int64_t>(intra.size()));
  for (int64_t i = 0; i < n_remove; ++i) {  // a partial Fisher-Yates shuffle: removals without replacement
    const auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(intra.size() - i)));
    std::swap(intra[i], intra[j]);
    f.removed.push_back(intra[i]);
  }
  // Pairs with different labels: (N² − Σ n_c²) / 2, less the edges already between classes.
  std::vector<int64_t> ids(labels);
  std::sort(ids.begin(), ids.end());
  int64_t same = 0;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    same += static_cast<int64_t>((j - i) * (j - i));
    i = j;
  }
  const int64_t free = (nodes * nodes - same) / 2 - inter_edges, n_insert = n - n_remove;
  if (n_insert > free)
    throw std::invalid_argument("DICE: " + std::to_string(n_insert) + " insertions between classes asked, the graph has " +
                                std::to_string(free) + " such non-edges");
  insert(f, edges, nodes, n_insert, rng,
         [](const Edge& e, const void* l) {
           const auto& lab = *static_cast<const std::vector<int64_t>*>(l);
           return lab[e.first] != lab[e.second];
         },
         &labels);
  return f;
}

std::vector<Edge> perturbed(const std::vector<Edge>& edges, const Flips& f) {
  std::vector<Edge> removed(f.removed);
  std::sort(removed.begin(), removed.end());
  std::vector<Edge> out;
  out.reserve(edges.size() + f.inserted.size());
  std::set_difference(edges.begin(), edges.end(), removed.begin(), removed.end(), std::back_inserter(out));
  out.insert(out.end(), f.inserted.begin(), f.inserted.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace lrb::graph
