#include "core/selection_split_name.h"

#include <gtest/gtest.h>

namespace lrb {
namespace {

TEST(SelectionSplitName, OverlapWithTheScoredExamples) {
  EXPECT_EQ(split_overlap("validation", 500), 0);
  EXPECT_EQ(split_overlap("test", 2708), 2708);
  EXPECT_EQ(split_overlap("test[:2000]", 10000), 2000);
  EXPECT_EQ(split_overlap("test[:2000]", 500), 500);
  EXPECT_EQ(split_overlap("test[8000:10000]", 2000), 0);
  EXPECT_EQ(split_overlap("test[8000:10000]", 10000), 2000);
  EXPECT_EQ(split_overlap("test[8000:10000]", 9000), 1000);
  EXPECT_FALSE(split_overlap("train", 10));
  EXPECT_FALSE(split_overlap("test[8000:10000", 10));
}

// The evaluator writes the name, reports parse it: what one writes the other reads.
TEST(SelectionSplitName, TheWrittenNameIsTheOneRead) {
  EXPECT_EQ(test_slice_name(8000, 10000), "test[8000:10000]");
  EXPECT_EQ(split_overlap(test_slice_name(7600, 7600), 7600), 0);
  EXPECT_EQ(split_overlap(test_slice_name(600, 1000), 1000), 400);
}

}  // namespace
}  // namespace lrb
