// LR-WL trains the demo MLP (784-256-10, ReLU) on Fashion-MNIST through lrb::train_run with the demo's
// optimizer (Adam 1e-3), batches (100) and seed, i.e. exactly as bp would be run. ES's accuracy is guarded
// by the regression tier's ES cells (GRU on AG News, GCN on Cora), which cost less than an image ES run.
#include "experiments/train_run.h"
#include "tests/support/experiment.h"

namespace lrb {
namespace {

NodePtr demo(const std::vector<std::string>& overrides) { return test::experiment("demo.yaml", overrides); }

// Budget: 1 epoch (600 steps of 100 copies per layer), ~10 s on 2 cores (81.84 % at seed 0, 2026-12-01).
TEST(LrTrainE2e, LrWlMlpFashionMnistReaches80Percent) {
  test::TempDir d;
  auto r = train_run(demo({"trainer=lr-wl", "train.epochs=1", "seed=0"}), d.path());
  EXPECT_GE(r.final_test_acc, 0.80);
}

}  // namespace
}  // namespace lrb
