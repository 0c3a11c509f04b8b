// gat against an independent dense reference (tools/golden_gat.py, PyTorch float64, dense masked softmax) on a
// fixed graph whose edges come from core/graph.h's Â; dropout; and the rows the LR engine may perturb.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "core/config.h"
#include "core/graph.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "tests/unit/models/gat_golden.h"
#include "tests/unit/models/golden_graph.h"

namespace lrb {
namespace {

namespace g = golden::gat;

using golden::tensor;

struct Fixture {
  ClassifierImpl::Ptr model;
  Batch b;
  Fixture() {
    ModelContext ctx;
    ctx.input.shape = {g::kF};
    ctx.num_classes = g::kK;
    model = Registry<ClassifierImpl>::get().make(
        Config(parse_yaml_string(fmt::format("name: gat\nheads: {}\nhidden: {}\nout_heads: {}", g::kHeads, g::kHidden, g::kOutHeads),
                                 "test.yaml"),
               ""),
        ctx);
    auto p = model->named_parameters();
    torch::NoGradGuard no_grad;
    p["l0.weight"].copy_(tensor(g::kW0, {g::kHeads * g::kHidden, g::kF}));
    p["l0.bias"].copy_(tensor(g::kB0, {g::kHeads * g::kHidden}));
    auto dst0 = tensor(g::kA0Dst, {g::kHeads, g::kHidden}), src0 = tensor(g::kA0Src, {g::kHeads, g::kHidden});
    for (int64_t k = 0; k < g::kHeads; ++k)
      p["l0_att" + std::to_string(k) + ".weight"].copy_(torch::cat({dst0[k], src0[k]}).unsqueeze(0));
    p["l1.weight"].copy_(tensor(g::kW1, {g::kOutHeads * g::kK, g::kHeads * g::kHidden}));
    p["l1.bias"].copy_(tensor(g::kB1, {g::kOutHeads * g::kK}));
    auto dst1 = tensor(g::kA1Dst, {g::kOutHeads, g::kK}), src1 = tensor(g::kA1Src, {g::kOutHeads, g::kK});
    for (int64_t k = 0; k < g::kOutHeads; ++k)
      p["l1_att" + std::to_string(k) + ".weight"].copy_(torch::cat({dst1[k], src1[k]}).unsqueeze(0));
    b = golden::graph(g::kX, g::kEdges, g::kN, g::kF, g::kE);
  }
};

TEST(Gat, MatchesTheDenseReference) {
  Fixture f;
  f.model->eval();  // dropout off, as the reference
  torch::NoGradGuard no_grad;
  auto out = f.model->forward(f.b);
  auto ref = tensor(g::kLogits, {g::kN, g::kK});
  EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-6)) << out << "\nvs\n" << ref;
}

// The attention runs over the batch's own Â pattern: a graph attack's rebuilt adjacency changes the output.
TEST(Gat, AttendsOverTheBatchsEdges) {
  Fixture f;
  f.model->eval();
  torch::NoGradGuard no_grad;
  auto before = f.model->forward(f.b);
  auto b = f.b;
  b.edge_index = torch::cat({b.edge_index, torch::tensor({2, 5}, torch::kLong).view({2, 1})}, 1);
  b.adj = normalized_adjacency(b.edge_index, g::kN);
  auto after = f.model->forward(b);
  EXPECT_FALSE(torch::allclose(before.index_select(0, torch::tensor({2, 5})), after.index_select(0, torch::tensor({2, 5}))));
  EXPECT_TRUE(torch::allclose(before[0], after[0])) << "node 0 reads the layer-0 outputs of 0, 1 and 3, which attend over unchanged edges";
}

TEST(Gat, DropoutIsFreshPerForwardAndOffInEval) {
  Fixture f;
  torch::NoGradGuard no_grad;
  f.model->train();
  torch::manual_seed(0);
  EXPECT_FALSE(torch::allclose(f.model->forward(f.b), f.model->forward(f.b)));
  f.model->eval();
  EXPECT_TRUE(torch::equal(f.model->forward(f.b), f.model->forward(f.b)));
}

// Node 0 alone carries the loss. Edges into a node (with its self-loop): 0 <- {0,1,3}, 1 <- {0,1,2,4},
// 3 <- {0,2,3,4}. Output layer: projection rows {0,1,3}, attention rows the 3 edges into 0; layer 0:
// projection rows {0,1,2,3,4} (5 is 3 hops away), attention rows the 11 edges into {0,1,3}. Rows are
// copy-major, so each copy repeats its mask.
TEST(Gat, LiveRowsFollowTheMaskThroughBothLayers) {
  Fixture f;
  f.b.mask = torch::tensor({1, 0, 0, 0, 0, 0}, torch::kBool);
  auto& lm = dynamic_cast<LayeredModel&>(*f.model);
  auto sites = lm.layers();
  std::map<std::string, torch::Tensor> live;
  lm.layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor& lv) {
    live[sites[l].name] = lv;
    return sites[l](x);
  };
  torch::NoGradGuard no_grad;
  f.model->eval();
  lm.forward_copies(f.b, 2);
  lm.layer_hook = nullptr;
  auto two = [](std::vector<int64_t> v) { return torch::tensor(v, torch::kLong).to(torch::kBool).repeat({2}); };
  EXPECT_TRUE(torch::equal(live["l1"], two({1, 1, 0, 1, 0, 0})));
  // l0 projects the input, the same for every copy: a shared call, with one copy's rows.
  EXPECT_TRUE(torch::equal(live["l0"], torch::tensor({1, 1, 1, 1, 1, 0}, torch::kBool)));
  const int64_t E = g::kN + 2 * g::kE;
  for (const char* s : {"l1.att0", "l1.att1"}) {
    ASSERT_EQ(live[s].size(0), 2 * E) << s;
    EXPECT_EQ(live[s].sum().item<int64_t>(), 2 * 3) << s;
  }
  for (const char* s : {"l0.att0", "l0.att1"}) EXPECT_EQ(live[s].sum().item<int64_t>(), 2 * 11) << s;
  f.b.mask = torch::ones({g::kN}, torch::kBool);
  lm.layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor& lv) {
    EXPECT_FALSE(lv.defined()) << "every row live: no mask needed";
    return sites[l](x);
  };
  lm.forward_copies(f.b, 2);
  lm.layer_hook = nullptr;
}

}  // namespace
}  // namespace lrb
