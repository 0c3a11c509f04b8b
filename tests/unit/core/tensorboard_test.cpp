// lrbench's TensorBoard event files are the bytes TensorBoard's own writer produces for the same events
// (golden/tensorboard.tfevents, written by tools/golden_tensorboard.py with TensorBoard 2.21's RecordWriter and
// protobuf classes, and read back there with its RawEventFileLoader).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/fs.h"
#include "core/tensorboard.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
std::string golden() {
  std::ifstream f(test::source_dir() + "/tests/unit/core/golden/tensorboard.tfevents", std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

TEST(TensorBoard, Crc32cMatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value (RFC 3720 B.4)
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(TensorBoard, EventFileIsByteForByteWhatTensorBoardWrites) {
  const std::string expected = golden();
  ASSERT_FALSE(expected.empty());
  test::TempDir d;
  std::string path;
  {
    TensorBoardWriter w(d.path(), 1.5);
    w.scalar("train/loss", 0, 2.5f, 2.0);
    w.scalar("train/loss", 7, 0.25f, 3.25);
    w.scalar("epoch/test_acc", 600, 81.5f, 1e9 + 0.125);
    w.scalar("tag with ünïcode", int64_t{1} << 40, -1e-3f, 4.0);
    w.session_start(3, 5.0);
    path = w.path();
  }
  EXPECT_EQ(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.1.", 0), 0u) << path;
  const std::string ours = read_text(path);
  ASSERT_EQ(ours.size(), expected.size());
  EXPECT_TRUE(ours == expected) << "the event file differs from TensorBoard's bytes";
}

TEST(TensorBoard, ASecondWriterInTheSameSecondGetsAFileOfItsOwn) {
  test::TempDir d;
  TensorBoardWriter a(d.path(), 7.0), b(d.path(), 7.0);
  EXPECT_NE(a.path(), b.path());
  EXPECT_EQ(b.path(), a.path() + ".1");
}

TEST(TensorBoard, ADamagedByteChangesTheRecordsChecksum) {
  const auto r = TensorBoardWriter::record(TensorBoardWriter::scalar_event("x", 1, 1.0f, 1.0));
  auto damaged = r;
  damaged[14] ^= 1;  // a byte of the data
  EXPECT_NE(masked_crc32c(damaged.data() + 12, damaged.size() - 16), masked_crc32c(r.data() + 12, r.size() - 16));
}
