#include "threats/graph/graph_attack.h"

#include <torch/torch.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "core/graph.h"
#include "threats/threat.h"

namespace lrb::graph {

std::vector<Edge> edge_list(const torch::Tensor& edge_index, int64_t nodes) {
  auto ei = edge_index.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t E = ei.size(1);
  const auto* u = ei.data_ptr<int64_t>();
  std::vector<Edge> out(static_cast<size_t>(E));
  for (int64_t i = 0; i < E; ++i) out[i] = {u[i], u[E + i]};
  return canonical(std::move(out), nodes);
}

Batch with_edges(const Batch& clean, const std::vector<Edge>& edges) {
  const auto E = static_cast<int64_t>(edges.size());
  // host: filled element-wise here, then moved to the graph's device
  auto ei = torch::empty({2, E}, torch::kLong);
  auto* p = ei.data_ptr<int64_t>();
  for (int64_t i = 0; i < E; ++i) p[i] = edges[i].first, p[E + i] = edges[i].second;
  Batch out = clean;
  out.edge_index = ei.to(clean.x.device());
  out.adj = normalized_adjacency(out.edge_index, clean.x.size(0));
  return out;
}

uint64_t draw_seed(at::Generator& gen) {
  auto t = at::randint(std::numeric_limits<int64_t>::max(), {1}, gen,
                       torch::TensorOptions().dtype(torch::kLong).device(gen.device()));
  return static_cast<uint64_t>(t.item<int64_t>());
}

EdgeBudget read_budget(const Config& c) {
  EdgeBudget b;
  std::string unit = "undirected";
  c.has("name");
  c.read("rate", b.rate, Range{0.0, 1.0, /*lo_open=*/true});  // (0, 1]: at most as many flips as edges (per unit)
  c.read_choice("budget_unit", unit, {"undirected", "directed"});
  b.directed = unit == "directed";
  return b;
}

int64_t EdgeBudget::flips(int64_t undirected_edges) const { return budget(rate, (directed ? 2 : 1) * undirected_edges); }

std::string EdgeBudget::metric(const std::string& base) const { return directed ? base + " (directed)" : base; }

std::string EdgeBudget::params() const {
  return "rate=" + param_number(rate) + (directed ? ";budget_unit=directed" : "");
}

Batch perturb_edges(const Batch& clean, const char* attack, const EdgeBudget& budget, at::Generator& gen,
                    const FlipFn& flips) {
  check_graph(clean, attack);
  auto edges = edge_list(clean.edge_index, clean.x.size(0));
  const auto n = budget.flips(static_cast<int64_t>(edges.size()));
  return with_edges(clean, perturbed(edges, flips(clean, edges, n, draw_seed(gen))));
}

void check_graph(const Batch& b, const char* attack) {
  if (b.modality != Modality::kGraph || !b.edge_index.defined() || b.edge_index.dim() != 2 || b.edge_index.size(0) != 2 ||
      !b.y.defined() || b.y.size(0) != b.x.size(0))
    throw std::invalid_argument(std::string(attack) + ": needs a graph batch (node features [N,F], labels [N], edge_index [2,E])");
}

}  // namespace lrb::graph
