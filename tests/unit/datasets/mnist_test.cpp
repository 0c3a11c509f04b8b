// MNIST and Fashion-MNIST on the real IDX files.
#include "datasets/idx.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

// Loaded once for the whole suite: a full load is ~1 s.
const DatasetSource& mnist() {
  static auto src = load_source("name: mnist\n");
  return *src;
}

TEST(Mnist, WholeDatasetCountsLabelsAndClassCounts) {
  LRB_REQUIRE_DATA("mnist/train-images-idx3-ubyte.gz");
  const DatasetSource* src = &mnist();
  expect_images(src->train(), 60000, {1, 28, 28});
  expect_images(src->test(), 10000, {1, 28, 28});
  EXPECT_EQ(src->train().y[0].item<int64_t>(), 5);
  EXPECT_EQ(src->test().y[0].item<int64_t>(), 7);
  const int64_t train_counts[] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  const int64_t test_counts[] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(count_of(src->train().y, c), train_counts[c]) << "class " << c;
    EXPECT_EQ(count_of(src->test().y, c), test_counts[c]) << "class " << c;
  }
  // The pixels are bytes / 255: every value times 255 is an integer.
  auto scaled = src->test().x * 255;
  EXPECT_TRUE(torch::allclose(scaled, scaled.round(), 0, 1e-3));
  EXPECT_EQ(src->label(), "mnist");
  EXPECT_EQ(src->num_classes(), 10);
  EXPECT_EQ(src->input_spec().shape, (std::vector<int64_t>{1, 28, 28}));
  for (const auto& c : src->verify()) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

TEST(Mnist, LimitTakesTheFirstExamples) {
  LRB_REQUIRE_DATA("mnist/train-images-idx3-ubyte.gz");
  const DatasetSource* full = &mnist();
  auto part = load_source("name: mnist\nlimit_train: 100\nlimit_test: 7\n");
  expect_images(part->train(), 100, {1, 28, 28});
  expect_images(part->test(), 7, {1, 28, 28});
  EXPECT_TRUE(torch::equal(part->train().x, full->train().x.slice(0, 0, 100)));
  EXPECT_TRUE(torch::equal(part->test().y, full->test().y.slice(0, 0, 7)));
  EXPECT_EQ(part->label(), "mnist [limit_train=100, limit_test=7]");
}

TEST(Idx, RejectsBadHeader) {
  std::string bytes("\x00\x00\x08\x01\x00\x00\x00\x05" "abcd", 12);  // promises 5 bytes, has 4
  EXPECT_THROW(datasets::parse_idx(bytes, 1, "x"), DataError);
  EXPECT_THROW(datasets::parse_idx(bytes, 3, "x"), DataError);
  bytes += "e";
  EXPECT_EQ(datasets::parse_idx(bytes, 1, "x").dims, (std::vector<int64_t>{5}));
}

TEST(FashionMnist, DebianFilesCountsAndFirstLabels) {
  if (!std::filesystem::exists(std::string(kFashionDir) + "/train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "apt-get install dataset-fashion-mnist";
  auto src = make_source("name: fashion-mnist\n", 0, "/nonexistent-root");
  ASSERT_EQ(dynamic_cast<datasets::IdxImageSource&>(*src).dir(), kFashionDir);
  src->load();
  expect_images(src->train(), 60000, {1, 28, 28});
  expect_images(src->test(), 10000, {1, 28, 28});
  const int64_t first[] = {9, 0, 0, 3, 0};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(src->train().y[i].item<int64_t>(), first[i]);
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(count_of(src->train().y, c), 6000);
    EXPECT_EQ(count_of(src->test().y, c), 1000);
  }
  EXPECT_EQ(src->label(), "fashion-mnist");
  for (const auto& c : src->verify()) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

TEST(FashionMnist, PathOverrideAndDataRootCopyWin) {
  TempDir tmp;
  EXPECT_EQ(dynamic_cast<datasets::IdxImageSource&>(*make_source("name: fashion-mnist\npath: /x/y\n")).dir(), "/x/y");
  std::filesystem::create_directories(tmp / "fashion-mnist");
  auto src = make_source("name: fashion-mnist\n", 0, tmp.path());
  EXPECT_EQ(dynamic_cast<datasets::IdxImageSource&>(*src).dir(), tmp / "fashion-mnist");
}

}  // namespace
}  // namespace lrb::test
