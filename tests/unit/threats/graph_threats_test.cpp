// Contract of every registered graph threat (random-edge, dice; a new one is covered by registering it) on
// a small fixed graph: the flip budget int(rate x edges), a canonical simple edge list, Â rebuilt from the
// perturbed edges (a stale Â would make the attack a no-op), features/labels/mask untouched, the victim
// never queried (model-free), same generator seed -> same graph.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "core/errors.h"
#include "core/graph.h"
#include "core/seed.h"
#include "tests/unit/threats/threat_test_util.h"
#include "core/graph_edges.h"
#include "threats/victim.h"

using namespace lrb;
using namespace lrb::test;

namespace {

// 40 nodes in 4 classes; a ring inside each class plus a few edges across classes.
Batch tiny_graph() {
  Batch b;
  b.modality = Modality::kGraph;
  const int64_t n = 40;
  b.x = torch::rand({n, 5}, torch::TensorOptions().dtype(torch::kFloat));
  b.y = torch::arange(n, torch::kLong).remainder(4);
  std::vector<int64_t> u, v;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = (i + 4) % n;  // same class (i mod 4)
    u.push_back(std::min(i, j)), v.push_back(std::max(i, j));
  }
  for (int64_t i = 0; i + 1 < n; i += 5) u.push_back(i), v.push_back(i + 1);  // across classes
  b.edge_index = torch::stack({torch::tensor(u), torch::tensor(v)});
  b.adj = normalized_adjacency(b.edge_index, n);
  b.mask = torch::ones({n}, torch::kBool);
  return b;
}

std::set<std::pair<int64_t, int64_t>> edge_set(const torch::Tensor& ei) {
  std::set<std::pair<int64_t, int64_t>> s;
  for (int64_t i = 0; i < ei.size(1); ++i) s.insert({ei[0][i].item<int64_t>(), ei[1][i].item<int64_t>()});
  return s;
}

class Counting : public TinyConvNet {
 public:
  int calls = 0;
  torch::Tensor forward(const Batch& b) override {
    ++calls;
    return torch::zeros({b.x.size(0), 4});
  }
};

TEST(GraphThreatContract, BudgetCanonicalEdgesRebuiltAdjacencyDeterminism) {
  int graph_threats = 0;
  for (const auto& key : threat_keys()) {
    if (!make_threat(threat_cfg("name: " + key))->fits(Modality::kGraph)) continue;
    for (double rate : {0.1, 0.5, 1.0}) {
      auto threat = make_threat(threat_cfg("name: " + key + "\nrate: " + std::to_string(rate)));
      auto* atk = dynamic_cast<Attack*>(threat.get());
      ++graph_threats;
      ASSERT_NE(atk, nullptr) << key;
      EXPECT_FALSE(threat->fits(Modality::kImage)) << key;
      EXPECT_FALSE(atk->needs_input_grad()) << key;
      torch::manual_seed(1);
      auto clean = tiny_graph();
      const auto before = edge_set(clean.edge_index);
      const auto n = graph::budget(rate, static_cast<int64_t>(before.size()));
      Counting model;
      Victim victim(model);
      auto g1 = make_generator(5), g2 = make_generator(5), g3 = make_generator(6);
      auto a = atk->perturb(victim, clean, g1), b = atk->perturb(victim, clean, g2), c = atk->perturb(victim, clean, g3);
      EXPECT_EQ(model.calls, 0) << key << ": a model-free attack queried the model";
      EXPECT_TRUE(torch::equal(a.edge_index, b.edge_index)) << key << ": same seed, different graph";
      EXPECT_FALSE(torch::equal(a.edge_index, c.edge_index)) << key << ": another seed, the same graph";
      EXPECT_TRUE(torch::equal(a.x, clean.x) && torch::equal(a.y, clean.y) && torch::equal(a.mask, clean.mask)) << key;
      const auto after = edge_set(a.edge_index);
      EXPECT_EQ(static_cast<int64_t>(after.size()), a.edge_index.size(1)) << key << ": duplicate edges";
      for (const auto& e : after) EXPECT_LT(e.first, e.second) << key << ": not canonical (or a self-loop)";
      int64_t flips = 0;  // the symmetric difference of the edge sets
      for (const auto& e : after) flips += before.count(e) ? 0 : 1;
      for (const auto& e : before) flips += after.count(e) ? 0 : 1;
      EXPECT_EQ(flips, n) << key << " rate " << rate;
      auto expected = normalized_adjacency(a.edge_index, clean.x.size(0)).to_dense();
      EXPECT_TRUE(torch::allclose(a.adj.to_dense(), expected)) << key << ": Â not rebuilt from the perturbed edges";
      EXPECT_FALSE(torch::allclose(a.adj.to_dense(), clean.adj.to_dense())) << key;
      EXPECT_NE(threat->params().find("rate="), std::string::npos) << key;
    }
  }
  EXPECT_EQ(graph_threats, 6) << "random-edge and dice at three rates";
}

// budget_unit: directed counts each undirected edge twice (an adjacency matrix's nonzeros), so twice the flips,
// each still one undirected edge; it lands in threat_params, and the default's params are as they were.
TEST(GraphThreatContract, DirectedBudgetUnitDoublesTheFlips) {
  for (const std::string key : {"random-edge", "dice"}) {
    auto undirected = make_threat(threat_cfg("name: " + key + "\nrate: 0.25"));
    auto directed = make_threat(threat_cfg("name: " + key + "\nrate: 0.25\nbudget_unit: directed"));
    EXPECT_EQ(undirected->params().find("budget_unit"), std::string::npos) << key;
    EXPECT_NE(directed->params().find("rate=0.25;budget_unit=directed"), std::string::npos) << key;
    EXPECT_EQ(directed->metric(), undirected->metric() + " (directed)") << key << ": a column of its own";
    EXPECT_EQ(undirected->metric(), key == "dice" ? "DICE" : "RA") << key;
    auto clean = tiny_graph();
    const auto before = edge_set(clean.edge_index);
    Counting model;
    Victim victim(model);
    auto gen = make_generator(5);
    const auto after = edge_set(dynamic_cast<Attack&>(*directed).perturb(victim, clean, gen).edge_index);
    int64_t flips = 0;
    for (const auto& e : after) flips += before.count(e) ? 0 : 1;
    for (const auto& e : before) flips += after.count(e) ? 0 : 1;
    EXPECT_EQ(flips, graph::budget(0.25, 2 * static_cast<int64_t>(before.size()))) << key;
    EXPECT_GT(flips, graph::budget(0.25, static_cast<int64_t>(before.size()))) << key;
  }
  EXPECT_THROW(make_threat(threat_cfg("name: dice\nbudget_unit: nodes")), ConfigError);
}

TEST(GraphThreatContract, RateIsValidated) {
  EXPECT_THROW(make_threat(threat_cfg("name: dice\nrate: 0")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: random-edge\nrate: -1")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: random-edge\nrate: 1.5")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: random-edge\nratio: 0.1")), ConfigError);  // unknown key
}

}  // namespace
