// The torch-free parsers of datasets/formats.h on inputs the fuzz harnesses (tests/fuzz) care about: sizes
// whose product overflows, whitespace strtoll would swallow, integers out of range.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "datasets/formats.h"

namespace lrb::datasets {
namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16 & 0xff), char(v >> 8 & 0xff), char(v & 0xff)};
}

TEST(Formats, IdxSizesWhoseProductOverflowsAreRefused) {
  // 2^31 x 2^31 x 2^31 wraps a signed 64-bit product (undefined behaviour before the fix).
  std::string bytes = std::string("\0\0\x08\x03", 4) + be32(0x80000000u) + be32(0x80000000u) + be32(0x80000000u) + "ab";
  EXPECT_THROW(parse_idx(bytes, 3, "x"), DataError);
  // 2^32 - 1 items of zero size: promises no bytes, so an empty body is whole.
  bytes = std::string("\0\0\x08\x02", 4) + be32(0xffffffffu) + be32(0);
  EXPECT_EQ(parse_idx(bytes, 2, "x").dims, (std::vector<int64_t>{0xffffffffLL, 0}));
}

TEST(Formats, IntRowsKeepLineBreaksAndRefuseOverflow) {
  auto rows = parse_int_rows("1 2\v\n3\f4\n\n-5\r\n");
  ASSERT_EQ(rows.size(), 3u);  // a '\v' before '\n' must not let strtoll join two lines
  EXPECT_EQ(rows[0], (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(rows[1], (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(rows[2], (std::vector<int64_t>{-5}));
  EXPECT_THROW(parse_int_rows("1\n99999999999999999999\n"), std::invalid_argument);
  EXPECT_THROW(parse_int_rows("1 x\n"), std::invalid_argument);
}

TEST(Formats, CifarRecordsAreWholeWithLabelsUpToNine) {
  EXPECT_EQ(cifar_record_problem(std::string(kCifarRecord, '\x09')), "");
  EXPECT_NE(cifar_record_problem(std::string(kCifarRecord - 1, '\0')), "");
  EXPECT_NE(cifar_record_problem(std::string(kCifarRecord, '\x0a')), "");
}

}  // namespace
}  // namespace lrb::datasets
