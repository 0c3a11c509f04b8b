// CIFAR-10 on the lossless partial files, a slice of the lossy copy, and a synthetic official-format directory.
#include "core/seed.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

void expect_first(const torch::Tensor& y, std::vector<int64_t> want) {
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(y[i].item<int64_t>(), want[i]) << "index " << i;
}

TEST(Cifar10, LosslessPartial) {
  LRB_REQUIRE_DATA("cifar10/lossless-partial/data_batch_1_first4000.bin.gz");
  auto src = load_source("name: cifar10\nvariant: lossless-partial\n");
  expect_images(src->train(), 4000, {3, 32, 32});
  expect_images(src->test(), 1000, {3, 32, 32});
  expect_first(src->train().y, {6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  expect_first(src->test().y, {3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
  const int64_t test_counts[] = {103, 89, 100, 103, 90, 86, 112, 102, 106, 109};
  for (int c = 0; c < 10; ++c) EXPECT_EQ(count_of(src->test().y, c), test_counts[c]);
  EXPECT_EQ(src->label(), "cifar10 [lossless partial: 4000 train / 1000 test]");
  auto spec = src->input_spec();
  EXPECT_EQ(spec.shape, (std::vector<int64_t>{3, 32, 32}));
  EXPECT_EQ(spec.mean, (std::vector<double>{0.49139968, 0.48215827, 0.44653124}));
  EXPECT_EQ(spec.std, (std::vector<double>{0.24703233, 0.24348505, 0.26158768}));
  auto checks = src->verify();
  ASSERT_EQ(checks.size(), 2u);
  for (const auto& c : checks) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

TEST(Cifar10, LossySliceIsTheDefaultWithoutOfficialFiles) {
  LRB_REQUIRE_DATA("cifar10/cifar-10-batches-bin-LOSSY-JPEG-q75/data_batch_1.bin.gz");
  auto src = load_source("name: cifar10\nlimit_train: 50\nlimit_test: 20\n");
  expect_images(src->train(), 50, {3, 32, 32});
  expect_images(src->test(), 20, {3, 32, 32});
  expect_first(src->train().y, {6, 9, 9, 4, 1});
  // The lossy test set interleaves the classes: record 10k + c has class c.
  EXPECT_TRUE(torch::equal(src->test().y, torch::arange(20, torch::kLong) % 10));
  EXPECT_EQ(src->label(), "cifar10 [LOSSY JPEG q75 copy; test order not original; limit_train=50, limit_test=20]");

  // Same images as the lossless records, up to JPEG error.
  if (!std::filesystem::exists(data_root() + "/cifar10/lossless-partial/data_batch_1_first4000.bin.gz")) return;
  auto exact = load_source("name: cifar10\nvariant: lossless-partial\nlimit_train: 50\nlimit_test: 1\n");
  EXPECT_TRUE(torch::equal(exact->train().y, src->train().y));
  auto err = (exact->train().x - src->train().x).abs().mean({1, 2, 3}) * 255;
  EXPECT_LT(err.max().item<float>(), 13.5f);  // README: median 5.7, max 13.0 grey levels
}

TEST(Cifar10, FlipIsExactPerImageAndSeeded) {
  LRB_REQUIRE_DATA("cifar10/lossless-partial/data_batch_1_first4000.bin.gz");
  auto src = load_source("name: cifar10\nvariant: lossless-partial\nlimit_train: 64\nlimit_test: 1\n");
  const Batch& b = src->train();
  auto g1 = make_generator(7), g2 = make_generator(7), g3 = make_generator(8);
  Batch a1 = src->augment(b, g1), a2 = src->augment(b, g2), a3 = src->augment(b, g3);
  EXPECT_TRUE(torch::equal(a1.x, a2.x));
  EXPECT_FALSE(torch::equal(a1.x, a3.x));
  EXPECT_TRUE(torch::equal(a1.y, b.y));
  int flipped = 0;
  for (int64_t i = 0; i < b.x.size(0); ++i) {
    bool same = torch::equal(a1.x[i], b.x[i]), mirrored = torch::equal(a1.x[i], b.x[i].flip({2}));
    EXPECT_TRUE(same || mirrored) << "image " << i;
    flipped += mirrored && !same;
  }
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
  EXPECT_TRUE(torch::equal(src->augment(b, g1).y, b.y));

  auto no_flip = load_source("name: cifar10\nvariant: lossless-partial\nflip: false\nlimit_train: 8\nlimit_test: 1\n");
  EXPECT_TRUE(torch::equal(no_flip->augment(no_flip->train(), g1).x, no_flip->train().x));
}

// Official files carry no pinned sha256: a synthetic directory with the right sizes exercises that path.
TEST(Cifar10, OfficialFormatIsSizeAndLabelChecked) {
  TempDir tmp;
  const std::string dir = tmp / "cifar10/cifar-10-batches-bin";
  std::filesystem::create_directories(dir);
  std::string batch(30730000, '\x80');
  for (int r = 0; r < 10000; ++r) batch[r * 3073] = static_cast<char>(r % 10);
  spit(dir + "/data_batch_1.bin", batch);
  spit(dir + "/test_batch.bin", batch);
  auto src = make_source("name: cifar10\nlimit_train: 12\nlimit_test: 3\n", 0, tmp.path());
  src->load();
  expect_images(src->train(), 12, {3, 32, 32});
  EXPECT_EQ(src->train().y[11].item<int64_t>(), 1);
  EXPECT_NEAR(src->test().x.mean().item<float>(), 128.f / 255, 1e-6);
  EXPECT_EQ(src->label(), "cifar10 [limit_train=12, limit_test=3]");
  auto checks = src->verify();
  ASSERT_EQ(checks.size(), 6u);
  EXPECT_TRUE(checks[0].ok);
  EXPECT_EQ(checks[0].detail, "size and format checked; no pinned sha256");
  EXPECT_FALSE(checks[1].ok);  // data_batch_2 missing
  EXPECT_NE(checks[1].detail.find("missing"), std::string::npos);
  EXPECT_TRUE(checks[5].ok);

  batch[5 * 3073] = 10;
  spit(dir + "/test_batch.bin", batch);
  std::string msg = data_error([&] { make_source("name: cifar10\nlimit_train: 1\n", 0, tmp.path())->load(); });
  EXPECT_NE(msg.find(dir + "/test_batch.bin: bad format: label byte 10 at record 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh cifar10"), std::string::npos) << msg;

  spit(dir + "/test_batch.bin", batch.substr(0, 3073 * 100));
  msg = data_error([&] { make_source("name: cifar10\nlimit_train: 1\n", 0, tmp.path())->load(); });
  EXPECT_NE(msg.find("test_batch.bin: truncated (expected 30730000 bytes, no pinned sha256; found 307300 bytes)"),
            std::string::npos)
      << msg;
}

TEST(Cifar10, NothingPresentNamesTheOfficialFile) {
  TempDir tmp;
  std::string msg = data_error([&] { make_source("name: cifar10\n", 0, tmp.path())->load(); });
  EXPECT_NE(msg.find(tmp / "cifar10/cifar-10-batches-bin/data_batch_1.bin: missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh cifar10"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lrb::test
