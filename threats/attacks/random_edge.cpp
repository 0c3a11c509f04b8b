// random-edge: the paper's "R.A." (Table 3, "randomly injecting fake edges"), DeepRobust's
// Random().attack(adj, n_perturbations, type='add'): n = int(rate x undirected edges) node pairs that are
// not edges, chosen uniformly without repeats, become edges (both directions), on the whole graph; Â is
// rebuilt. Evasion by default: the trained model sees the perturbed graph at test time.
// Model-free: the victim is never queried. Source: ATTACKS.md §3.1, §3.3.
#include "core/registry.h"
#include "threats/graph/graph_attack.h"
#include "threats/threat.h"

namespace lrb {

class RandomEdge final : public Attack {
 public:
  explicit RandomEdge(double rate) : rate_(rate) {}
  std::string key() const override { return "random-edge"; }
  std::string metric() const override { return "RA"; }
  std::string params() const override { return "rate=" + param_number(rate_) + ";type=add"; }
  std::vector<Modality> modalities() const override { return {Modality::kGraph}; }
  bool needs_input_grad() const override { return false; }

  Batch perturb(Victim&, const Batch& clean, at::Generator& gen) override {
    graph::check_graph(clean, "random-edge");
    const int64_t nodes = clean.x.size(0);
    auto edges = graph::edge_list(clean.edge_index, nodes);
    const auto n = graph::budget(rate_, static_cast<int64_t>(edges.size()));
    auto flips = graph::random_insert(edges, nodes, n, graph::draw_seed(gen));
    return graph::with_edges(clean, graph::perturbed(edges, flips));
  }

 private:
  double rate_;
};

LRB_REGISTER(Attack, "random-edge", "R.A.: insert int(rate x edges) uniformly chosen non-edges (DeepRobust Random, add)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<RandomEdge>(graph::read_rate(c)); });

}  // namespace lrb
