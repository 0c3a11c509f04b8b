// Matched-accuracy selection (experiments/snapshots.h): the nearest snapshot, refused beyond 2 pp; snapshot records.
#include "experiments/snapshots.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"
#include "tests/support/experiment.h"

using namespace lrb;

namespace {
Snapshot snap_at(int64_t step, double accuracy) {
  Snapshot s;
  s.step = step, s.accuracy = accuracy, s.file = "step-" + std::to_string(step) + ".pt";
  return s;
}
}  // namespace

TEST(MatchSnapshot, PicksTheNearestAndRefusesBeyondTwoPoints) {
  const std::vector<Snapshot> snaps = {snap_at(100, 31.0), snap_at(200, 36.5), snap_at(300, 40.2), snap_at(400, 47.0)};
  auto m = match_snapshot(snaps, 37.3);
  ASSERT_TRUE(m.chosen);
  EXPECT_EQ(m.chosen->step, 200);  // 0.8 pp away, against 2.9 for step 300
  m = match_snapshot(snaps, 38.5);  // 2.0 from 36.5, 1.7 from 40.2
  ASSERT_TRUE(m.chosen);
  EXPECT_EQ(m.chosen->step, 300);
  m = match_snapshot(snaps, 43.61);  // 3.41 and 3.39 away: refused, the nearest still named
  EXPECT_FALSE(m.chosen);
  ASSERT_TRUE(m.nearest);
  EXPECT_EQ(m.nearest->step, 400);
  EXPECT_TRUE(match_snapshot(snaps, 49.0).chosen);    // exactly 2 pp: within
  EXPECT_FALSE(match_snapshot(snaps, 49.01).chosen);  // beyond
  EXPECT_FALSE(match_snapshot({}, 40).nearest);
  // A tie goes to the earlier snapshot (the less trained model).
  EXPECT_EQ(match_snapshot({snap_at(1, 30), snap_at(2, 34)}, 32).chosen->step, 1);
}

TEST(ListSnapshots, ReadsRecordsSkipsOrphansAndNamesABadFile) {
  test::TempDir d;
  EXPECT_TRUE(list_snapshots(d.path()).empty());  // no snapshots/ folder
  std::filesystem::create_directories(d / "snapshots");
  for (int64_t step : {20, 10, 30}) {
    Snapshot s = snap_at(step, 50 + step);
    s.file = d / ("snapshots/step-" + std::to_string(step) + ".pt");
    s.epoch = 1, s.split = "test[:100]", s.examples = 100, s.sha256 = "abc";
    if (step != 30) write_text_atomic(s.file, "weights");  // step 30: its .pt never written (a kill between)
    write_snapshot_record(s);
  }
  auto snaps = list_snapshots(d.path());
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0].step, 10);
  EXPECT_EQ(snaps[1].step, 20);
  EXPECT_DOUBLE_EQ(snaps[1].accuracy, 70);
  EXPECT_EQ(snaps[1].split, "test[:100]");
  write_text_atomic(d / "snapshots/step-40.json", "{\"step\": 40}");
  try {
    list_snapshots(d.path());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("step-40.json"), std::string::npos) << e.what();
  }
}
