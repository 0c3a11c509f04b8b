// dice: DICE, "delete internally, connect externally" (Waniek et al., Nature Human Behaviour 2018), as
// DeepRobust's DICE: n = int(rate x undirected edges) flips (budget_unit: directed, twice that), a fair coin each;
// heads removes an edge between two nodes of the same label, tails inserts a non-edge between nodes of different
// labels. It uses
// every node's label (the attacker knows them; nothing reaches training). Whole graph, Â rebuilt; evasion.
// Model-free. Source: docs/ATTACKS.md §3.2-3.3; deviations (exact flip count) in core/graph_edges.h.
#include <torch/torch.h>

#include "core/registry.h"
#include "threats/graph/graph_attack.h"
#include "threats/threat.h"

namespace lrb {

class Dice final : public Attack {
 public:
  explicit Dice(const graph::EdgeBudget& budget) : budget_(budget) {}
  std::string key() const override { return "dice"; }
  std::string metric() const override { return budget_.metric("DICE"); }
  std::string params() const override { return budget_.params(); }
  std::vector<Modality> modalities() const override { return {Modality::kGraph}; }
  bool needs_input_grad() const override { return false; }

  Batch perturb(Victim&, const Batch& clean, at::Generator& gen) override {
    return graph::perturb_edges(clean, "dice", budget_, gen, [](const Batch& b, const auto& edges, int64_t n, uint64_t seed) {
      auto y = b.y.to(torch::kCPU, torch::kLong).contiguous();
      std::vector<int64_t> labels(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
      return graph::dice(edges, labels, n, seed);
    });
  }

 private:
  graph::EdgeBudget budget_;
};

LRB_REGISTER(Attack, "dice", "DICE: remove same-label edges, insert different-label ones, a fair coin per flip (DeepRobust)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<Dice>(graph::read_budget(c)); });

}  // namespace lrb
