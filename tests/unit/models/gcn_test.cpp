// gcn against an independent dense reference (tools/golden_gcn.py, PyTorch float64) on a fixed graph, with
// Â built by core/graph.h from the edge list; and the rows the LR engine may perturb (live_rows).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.h"
#include "core/graph.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "tests/unit/models/gcn_golden.h"
#include "tests/unit/models/golden_graph.h"

namespace lrb {
namespace {

namespace g = golden::gcn;

using golden::tensor;

struct Fixture {
  ClassifierImpl::Ptr model;
  Batch b;
  Fixture() {
    ModelContext ctx;
    ctx.input.shape = {g::kF};
    ctx.num_classes = g::kK;
    model = Registry<ClassifierImpl>::get().make(
        Config(parse_yaml_string("name: gcn\nhidden: " + std::to_string(g::kH), "test.yaml"), ""), ctx);
    auto p = model->named_parameters();
    torch::NoGradGuard no_grad;
    p["l0.weight"].copy_(tensor(g::kW0, {g::kH, g::kF})), p["l0.bias"].copy_(tensor(g::kB0, {g::kH}));
    p["l1.weight"].copy_(tensor(g::kW1, {g::kK, g::kH})), p["l1.bias"].copy_(tensor(g::kB1, {g::kK}));
    b = golden::graph(g::kX, g::kEdges, g::kN, g::kF, g::kE);
  }
};

TEST(Gcn, MatchesTheDenseReference) {
  Fixture f;
  f.model->eval();  // dropout off, as the reference
  torch::NoGradGuard no_grad;
  auto out = f.model->forward(f.b);
  auto ref = tensor(g::kLogits, {g::kN, g::kK});
  EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-6)) << out << "\nvs\n" << ref;
}

// In training mode dropout is on and each clean pass draws new masks (the contract tests check that the
// noisy passes after a clean pass reuse its masks); eval mode is deterministic.
TEST(Gcn, DropoutIsFreshPerForwardAndOffInEval) {
  Fixture f;
  torch::NoGradGuard no_grad;
  f.model->train();
  torch::manual_seed(0);
  EXPECT_FALSE(torch::allclose(f.model->forward(f.b), f.model->forward(f.b)));
  f.model->eval();
  EXPECT_TRUE(torch::equal(f.model->forward(f.b), f.model->forward(f.b)));
}

// The output site's rows reach the loss only at masked nodes; the first site's also at their neighbours.
TEST(Gcn, LiveRowsFollowTheMaskThroughTheAggregation) {
  Fixture f;
  auto& lm = dynamic_cast<LayeredModel&>(*f.model);
  f.b.mask = torch::tensor({1, 0, 0, 0, 0, 1}, torch::kBool);
  EXPECT_TRUE(torch::equal(lm.live_rows(1, f.b), f.b.mask));
  // Neighbours of 0: 1, 3; of 5: 4.
  EXPECT_TRUE(torch::equal(lm.live_rows(0, f.b), torch::tensor({1, 1, 0, 1, 1, 1}, torch::kBool)));
  f.b.mask = torch::ones({g::kN}, torch::kBool);
  EXPECT_FALSE(lm.live_rows(0, f.b).defined()) << "every row live: no mask needed";
}

}  // namespace
}  // namespace lrb
