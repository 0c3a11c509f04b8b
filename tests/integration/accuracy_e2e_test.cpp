// Accuracy floors after short BP runs (the regression net under every later change).
// Budgets: MLP 3 epochs on all of Fashion-MNIST (~10 s); ResNet-5 3 epochs on 5,000 CIFAR-10 images (~60 s).
#include "experiments/train_run.h"
#include "tests/support/experiment.h"

using namespace lrb;

TEST(AccuracyE2e, BpMlpFashionMnistReaches84Percent) {
  test::TempDir d;
  auto r = train_run(test::experiment("demo.yaml", {"train.epochs=3", "seed=0"}), d.path());
  EXPECT_GE(r.final_test_acc, 0.84);
}

TEST(AccuracyE2e, BpResNet5OnACifarSliceBeats35Percent) {
  LRB_REQUIRE_DATA("cifar10/cifar-10-batches-bin-LOSSY-JPEG-q75/data_batch_1.bin.gz");
  test::TempDir d;
  auto root = test::experiment("resnet5_cifar10.yaml",
                               {"dataset.variant=lossy", "dataset.limit_train=5000", "dataset.limit_test=2000",
                                "train.epochs=3", "data_root=" + test::data_root()});
  auto r = train_run(root, d.path());
  EXPECT_GT(r.final_test_acc, 0.35);
}
