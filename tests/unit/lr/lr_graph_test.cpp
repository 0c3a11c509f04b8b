// The LR estimator of the zoo's graph models (docs/PAPER.md §2.5): gcn with logit noise on each layer's
// aggregated pre-activation Â·h·θ + z; gat with logit noise on the projected features and on every head's raw
// attention logits (rows: edges); one loss per copy (the mean over the masked nodes). The mean of many
// estimates must match exact BP gradients within its standard error, and the same rule must reject a
// 10 % bias (as lr_recurrent_test). Dropout off: BP's reference and the estimate then see the same network.
#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.h"
#include "core/graph.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "tests/unit/lr/unbiased_check.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

using check::flat;

// 9 nodes, 3 features, 3 classes: a ring plus two chords; 5 nodes carry the loss.
Batch graph9() {
  Batch b;
  b.modality = Modality::kGraph;
  const int64_t n = 9;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  b.x = at::rand({n, 3}, gen, torch::TensorOptions().dtype(torch::kDouble));
  b.y = at::randint(3, {n}, gen, torch::TensorOptions().dtype(torch::kLong));
  std::vector<int64_t> u, v;
  for (int64_t i = 0; i < n; ++i) u.push_back(std::min(i, (i + 1) % n)), v.push_back(std::max(i, (i + 1) % n));
  u.push_back(0), v.push_back(4), u.push_back(2), v.push_back(7);
  b.edge_index = torch::stack({torch::tensor(u), torch::tensor(v)});
  b.adj = normalized_adjacency(b.edge_index, n).to(torch::kDouble);
  b.mask = torch::tensor({1, 1, 0, 1, 0, 1, 0, 0, 1}, torch::kBool);
  return b;
}

struct Case {
  const char* model;
  int layer;  // estimated layer-wise; -1: all at once
  int64_t copies;
  // Sites too noisy at this many copies for a 10 % bias to show (their unbiasedness is still checked).
  std::vector<std::string> no_power = {};
  bool dropout = false;  // training-mode dropout: masks drawn by the clean pass, reused by the noisy copies
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.model << "_layer_" << c.layer << (c.dropout ? "_dropout" : ""); }
class Graph : public ::testing::TestWithParam<Case> {};

TEST_P(Graph, MeanMatchesBpWithinStandardError) {
  const auto& k = GetParam();
  torch::manual_seed(11);
  ModelContext ctx;
  ctx.input.shape = {3};
  ctx.num_classes = 3;
  const std::string drop = k.dropout ? "0.5" : "0";
  const std::string yaml = std::string(k.model) == "gcn" ? "name: gcn\nhidden: 4\ndropout: " + drop
                                                         : "name: gat\nheads: 2\nhidden: 2\ndropout: " + drop;
  auto model = Registry<ClassifierImpl>::get().make(Config(parse_yaml_string(yaml, "test.yaml"), ""), ctx);
  model->to(torch::kDouble);
  model->train();
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  auto layers = lm.layers();
  auto b = graph9();
  torch::NoGradGuard no_grad;
  auto [s, sig] = check::logit_settings(layers, k.layer, k.copies, 1e-3);
  Engine e(lm, s, sig);
  const auto clean = e.clean_pass(b);  // draws the dropout masks of this batch
  std::vector<torch::Tensor> ref;
  {
    // The exact gradient of the network the estimate sees: the same masks (forward_copies reuses them).
    torch::AutoGradMode on(true);
    model->zero_grad();
    torch::nn::functional::cross_entropy(b.select(lm.forward_copies(b, 1)), b.targets()).backward();
    for (const auto& l : layers)
      ref.push_back(flat(l.weight().grad(), l.bias().defined() ? l.bias().grad() : torch::Tensor()));
  }
  auto est = check::repeated_estimates(e, clean, k.layer, k.copies, layers.size(), 1000);
  for (size_t l = 0; l < layers.size(); ++l) {
    if (est[l].empty()) continue;
    const bool power = std::find(k.no_power.begin(), k.no_power.end(), layers[l].name) == k.no_power.end();
    check::expect_unbiased(est[l], ref[l], power, std::string(k.model) + " site " + layers[l].name);
  }
}

// Joint: the other sites' noise leaves some estimates too noisy to see a 10 % bias (gcn l0 at 1,000 copies:
// Σz² 18 vs a bound of 50; gat's attention heads: T² 0.9-8.8 vs 21-27); the layer-wise cases check that power.
INSTANTIATE_TEST_SUITE_P(Lr, Graph,
                         ::testing::Values(Case{"gcn", 0, 400}, Case{"gcn", 1, 400}, Case{"gcn", -1, 1000, {"l0"}},
                                           Case{"gat", 0, 400}, Case{"gat", 1, 400}, Case{"gat", 3, 400},
                                           Case{"gat", 4, 400},
                                           Case{"gat", -1, 400, {"l0.att0", "l0.att1", "l1.att0"}},
                                           Case{"gcn", -1, 1000, {"l0"}, true}));
// Not listed: gat with training-mode dropout. With dropout on the attention coefficients its joint estimate
// is biased (this test: l0 max |z| 22.8, T² 1,164 against a bound of 50; with input and hidden dropout alone it
// passes), cause not found yet. Table 3 trains gat by LR at dropout 0 (experiments/table3/*.txt).


}  // namespace
}  // namespace lrb::lr
