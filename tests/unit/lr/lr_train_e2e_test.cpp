// LR-WL and ES train the demo MLP (784-256-10, ReLU) on Fashion-MNIST through lrb::train_run with the
// demo's optimizer (Adam 1e-3), batches (100) and seed, i.e. exactly as bp would be run.
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

// Budget: 150 steps (a quarter epoch; population 200 = LR-WL's forward passes), ~45 s on 2 cores (62.70 % at
// seed 0, 2026-12-01).
TEST(LrTrainE2e, EsMlpFashionMnistReaches60Percent) {
  test::TempDir d;
  auto r = train_run(demo({"trainer=es", "train.epochs=1", "train.max_steps=150", "seed=0"}), d.path());
  EXPECT_GE(r.final_test_acc, 0.60);
}

}  // namespace
}  // namespace lrb
