// File verification: missing, truncated and altered files fail with one line naming the file, the expected
// size/sha256 and tools/fetch_data.sh; recompressed or un-gzipped official content passes.
#include <zlib.h>

#include "datasets/manifest.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

using datasets::expected;

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.append(buf, n);
  gzclose(f);
  return out;
}

void expect_one_line(const std::string& msg) { EXPECT_EQ(msg.find('\n'), std::string::npos) << msg; }

TEST(Manifest, TruncatedGzipCopyFailsNamingFileAndFetchScript) {
  LRB_REQUIRE_DATA("mnist/t10k-labels-idx1-ubyte.gz");
  TempDir tmp;
  const std::string dir = tmp / "mnist";
  link_dir(data_root() + "/mnist", dir, "t10k-labels-idx1-ubyte.gz");
  std::string gz = slurp(data_root() + "/mnist/t10k-labels-idx1-ubyte.gz");
  spit(dir + "/t10k-labels-idx1-ubyte.gz", gz.substr(0, gz.size() / 2));
  auto src = make_source("name: mnist\npath: " + dir + "\nlimit_train: 10\n");
  std::string msg = data_error([&] { src->load(); });
  expect_one_line(msg);
  EXPECT_NE(msg.find(dir + "/t10k-labels-idx1-ubyte.gz: truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10008 bytes, sha256 ff7bcfd416de"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh mnist"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LRBENCH_DATA"), std::string::npos) << msg;
}

TEST(Manifest, TruncatedPlainFileSaysTruncated) {
  LRB_REQUIRE_DATA("cora/text/cora.cites");
  TempDir tmp;
  link_dir(data_root() + "/cora/text", tmp.path(), "cora.cites");
  std::string bytes = slurp(data_root() + "/cora/text/cora.cites");
  spit(tmp / "cora.cites", bytes.substr(0, 1000));
  std::string msg = data_error([&] { make_source("name: cora\npath: " + tmp.path())->load(); });
  expect_one_line(msg);
  EXPECT_NE(msg.find(tmp / "cora.cites" + ": truncated (expected 48436 bytes, sha256 a6cafe6abd12"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("found 1000 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh cora"), std::string::npos) << msg;
}

TEST(Manifest, AlteredByteFails) {
  LRB_REQUIRE_DATA("cora/text/cora.split.train.txt");
  TempDir tmp;
  link_dir(data_root() + "/cora/text", tmp.path(), "cora.split.train.txt");
  std::string bytes = slurp(data_root() + "/cora/text/cora.split.train.txt");
  bytes[0] = bytes[0] == '0' ? '1' : '0';
  spit(tmp / "cora.split.train.txt", bytes);
  std::string msg = data_error([&] { make_source("name: cora\npath: " + tmp.path())->load(); });
  expect_one_line(msg);
  EXPECT_NE(msg.find("cora.split.train.txt: altered (sha256 differs)"), std::string::npos) << msg;
  auto checks = make_source("name: cora\npath: " + tmp.path())->verify();
  ASSERT_EQ(checks.size(), 5u);
  for (const auto& c : checks) EXPECT_EQ(c.ok, c.file.find("split.train") == std::string::npos) << c.file;
}

TEST(Manifest, AlteredGzipPayloadFailsOnDecompressedDigest) {
  LRB_REQUIRE_DATA("mnist/t10k-labels-idx1-ubyte.gz");
  TempDir tmp;
  std::string labels = gunzip(data_root() + "/mnist/t10k-labels-idx1-ubyte.gz");
  labels[100] = static_cast<char>((labels[100] + 1) % 10);  // still a valid label, so only the digest notices
  gzFile f = gzopen((tmp / "t10k-labels-idx1-ubyte.gz").c_str(), "wb1");
  gzwrite(f, labels.data(), labels.size());
  gzclose(f);
  std::string msg = data_error([&] {
    datasets::read_verified(tmp.path(), "t10k-labels-idx1-ubyte", expected("mnist", "t10k-labels-idx1-ubyte"), "mnist");
  });
  EXPECT_NE(msg.find("altered (sha256 differs) (expected after gunzip 10008 bytes"), std::string::npos) << msg;
}

TEST(Manifest, MissingFileNamesBothNames) {
  TempDir tmp;
  std::string msg = data_error([&] { make_source("name: mnist\npath: " + tmp.path())->load(); });
  expect_one_line(msg);
  EXPECT_NE(msg.find(tmp / "train-images-idx3-ubyte: missing (also looked for train-images-idx3-ubyte.gz"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("47040016 bytes, sha256 ba891046e650"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh mnist"), std::string::npos) << msg;
  auto checks = make_source("name: mnist\npath: " + tmp.path())->verify();
  ASSERT_EQ(checks.size(), 4u);
  for (const auto& c : checks) EXPECT_FALSE(c.ok);
}

TEST(Manifest, UngzippedAndRecompressedOfficialContentPasses) {
  LRB_REQUIRE_DATA("mnist/t10k-labels-idx1-ubyte.gz");
  TempDir tmp;
  std::string labels = gunzip(data_root() + "/mnist/t10k-labels-idx1-ubyte.gz");
  spit(tmp / "t10k-labels-idx1-ubyte", labels);
  auto e = expected("mnist", "t10k-labels-idx1-ubyte");
  EXPECT_EQ(datasets::read_verified(tmp.path(), "t10k-labels-idx1-ubyte", e, "mnist"), labels);
  std::filesystem::remove(tmp / "t10k-labels-idx1-ubyte");
  gzFile f = gzopen((tmp / "t10k-labels-idx1-ubyte.gz").c_str(), "wb1");  // other level: other .gz bytes
  gzwrite(f, labels.data(), labels.size());
  gzclose(f);
  auto check = datasets::check_file(tmp.path(), "t10k-labels-idx1-ubyte", e, "mnist");
  EXPECT_TRUE(check.ok) << check.detail;
  EXPECT_EQ(check.detail, "sha256 ok");
}

TEST(Manifest, UnknownEntryIsAProgrammingError) {
  EXPECT_THROW(expected("mnist", "nope"), std::logic_error);
}

TEST(Registry, AllFiveDatasetsRegistered) {
  auto keys = Registry<DatasetSource>::get().keys();
  EXPECT_EQ(keys, (std::vector<std::string>{"ag-news", "cifar10", "cora", "fashion-mnist", "mnist"}));
}

TEST(Registry, UnknownOptionIsAConfigError) {
  EXPECT_THROW(make_source("name: mnist\nlimit_trian: 5\n"), ConfigError);
  EXPECT_THROW(make_source("name: cifar10\nvariant: lossless\n"), ConfigError);
  EXPECT_THROW(make_source("name: cora\nlimit_test: -1\n"), ConfigError);
}

}  // namespace
}  // namespace lrb::test
