// Whole CIFAR-10 (the lossy copy here, or the official files when a user has them): counts and class balance.
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

TEST(Cifar10Full, WholeDefaultVariant) {
  LRB_REQUIRE_DATA("cifar10");
  auto src = load_source("name: cifar10\n");
  EXPECT_EQ(src->train().x.sizes(), (std::vector<int64_t>{50000, 3, 32, 32}));
  EXPECT_EQ(src->test().x.sizes(), (std::vector<int64_t>{10000, 3, 32, 32}));
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(count_of(src->train().y, c), 5000);
    EXPECT_EQ(count_of(src->test().y, c), 1000);
  }
  const int64_t first[] = {6, 9, 9, 4, 1, 1, 2, 7, 8, 3};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(src->train().y[i].item<int64_t>(), first[i]);
  // Record b*10000+i is original training image b*10000+i: the second file starts with its known labels too.
  EXPECT_GE(src->train().x.min().item<float>(), 0.f);
  EXPECT_LE(src->train().x.max().item<float>(), 1.f);
  for (const auto& c : src->verify()) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

}  // namespace
}  // namespace lrb::test
