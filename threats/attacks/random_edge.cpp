// random-edge: the paper's "R.A." (Table 3, "randomly injecting fake edges"), DeepRobust's
// Random().attack(adj, n_perturbations, type='add'): n = int(rate x undirected edges) node pairs that are
// not edges, chosen uniformly without repeats, become edges (both directions), on the whole graph; Â is
// rebuilt. Evasion by default: the trained model sees the perturbed graph at test time.
// Model-free: the victim is never queried. Source: docs/ATTACKS.md §3.1, §3.3.
#include "core/registry.h"
#include "threats/graph/graph_attack.h"
#include "threats/threat.h"

namespace lrb {

class RandomEdge final : public Attack {
 public:
  explicit RandomEdge(const graph::EdgeBudget& budget) : budget_(budget) {}
  std::string key() const override { return "random-edge"; }
  std::string metric() const override { return budget_.metric("RA"); }
  std::string params() const override { return budget_.params() + ";type=add"; }
  std::vector<Modality> modalities() const override { return {Modality::kGraph}; }
  bool needs_input_grad() const override { return false; }

  Batch perturb(Victim&, const Batch& clean, at::Generator& gen) override {
    return graph::perturb_edges(clean, "random-edge", budget_, gen, [](const Batch& b, const auto& edges, int64_t n, uint64_t seed) {
      return graph::random_insert(edges, b.x.size(0), n, seed);
    });
  }

 private:
  graph::EdgeBudget budget_;
};

LRB_REGISTER(Attack, "random-edge", "R.A.: insert int(rate x edges) uniformly chosen non-edges (DeepRobust Random, add)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<RandomEdge>(graph::read_budget(c)); });

}  // namespace lrb
