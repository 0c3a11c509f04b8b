// Matched accuracy end to end (issue 33): a BP run's snapshots leave its training unchanged, and `eval --match`
// evaluates the snapshot nearest another run's clean accuracy, or records that none is within 2 pp.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"
#include "experiments/evaluator.h"
#include "experiments/snapshots.h"
#include "experiments/train_run.h"
#include "tests/support/experiment.h"

using namespace lrb;
namespace fs = std::filesystem;

namespace {
// 3,000 images, batch 100: 30 steps an epoch, two epochs; a snapshot every 10 steps, on the last 500 of 1,000 test
// images.
std::vector<std::string> quick(std::vector<std::string> extra = {}) {
  std::vector<std::string> v = {"dataset.limit_train=3000", "dataset.limit_test=1000", "train.epochs=2", "threads=2"};
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}
const std::vector<std::string> kSnapshots = {"+train.snapshot_every=10", "+train.snapshot_examples=500"};

std::vector<std::string> test_accuracies(const std::string& metrics_csv) {
  std::vector<std::string> out;
  const auto table = CsvTable::load(metrics_csv);
  for (const auto& row : table.rows()) out.push_back(row[3]);
  return out;
}
}  // namespace

TEST(Matched, SnapshotsLeaveTrainingUnchangedAndRecordTheirAccuracy) {
  test::TempDir plain, snap;
  train_run(test::experiment("demo.yaml", quick()), plain.path());
  train_run(test::experiment("demo.yaml", quick(kSnapshots)), snap.path());
  EXPECT_EQ(test_accuracies(plain / "metrics.csv"), test_accuracies(snap / "metrics.csv"));
  const auto snaps = list_snapshots(snap.path());
  ASSERT_EQ(snaps.size(), 6u);  // steps 10 ... 60, counted across the two epochs
  EXPECT_EQ(snaps.front().step, 10);
  EXPECT_EQ(snaps.back().step, 60);
  EXPECT_EQ(snaps.back().epoch, 2);
  EXPECT_EQ(snaps.front().split, "test[500:1000]");
  EXPECT_FALSE(fs::exists(plain / "snapshots"));
}

// The LR-L target (5 steps) sits near 42 %. A BP run with a snapshot every step at a low learning rate passes
// through that accuracy; one with a snapshot every 10 steps at the demo's rate is past 60 % at its first.
TEST(Matched, EvaluatesTheNearestSnapshotOrRecordsWhyNot) {
  test::TempDir fine, coarse, lr;
  train_run(test::experiment("demo.yaml", quick({"+train.snapshot_every=1", "+train.snapshot_examples=500",
                                                 "train.optimizer.lr=2.0e-4"})),
            fine.path());
  train_run(test::experiment("demo.yaml", quick(kSnapshots)), coarse.path());
  train_run(test::experiment("demo.yaml", quick({"trainer=lr-l", "train.epochs=1", "train.max_steps=5"})), lr.path());

  EvalRequest req;
  req.run_dir = fine.path();
  req.threat = "fgsm";
  req.overrides = {"eval.n_examples=300"};
  req.match_run = lr.path();
  auto table = evaluate(req);
  const auto record = nlohmann::json::parse(read_text(fine / "eval/fgsm.matched-lr-l.json"));
  ASSERT_TRUE(record["matched"].get<bool>()) << record.dump();
  // The chosen snapshot is the nearest of all to the target's accuracy on the same 500 images.
  const double target = record["target_accuracy"].get<double>();
  const auto best = match_snapshot(list_snapshots(fine.path()), target);
  ASSERT_TRUE(best.chosen);
  EXPECT_EQ(record["snapshot_step"].get<int64_t>(), best.chosen->step);
  EXPECT_LE(std::fabs(best.chosen->accuracy - target), 2.0 + 1e-9);  // as match_snapshot: 2 pp in binary
  EXPECT_FALSE(record["rescored"].get<bool>());
  EXPECT_EQ(record["scored_examples_in_split"].get<int64_t>(), 0);  // scores test[:300], chooses on test[500:1000]
  ASSERT_EQ(table.rows().size(), 2u);  // Ori and FGSM
  const auto& h = table.header();
  const size_t mode = std::find(h.begin(), h.end(), "mode") - h.begin();
  EXPECT_EQ(table.rows()[0][mode], "matched to LR-L");
  EXPECT_TRUE(fs::exists(fine / "eval/fgsm.matched-lr-l.csv"));

  // No snapshot within 2 pp: refused, the nearest named, no rows written, and an earlier evaluation's rows of this
  // pair (left here on purpose) gone.
  req.run_dir = coarse.path();
  fs::create_directories(coarse / "eval");
  for (const char* stale : {"eval/fgsm.matched-lr-l.csv", "eval/fgsm.matched-lr-l.sweep.csv"})
    write_text_atomic(coarse / stale, "stale\n");
  table = evaluate(req);
  EXPECT_TRUE(table.rows().empty());
  const auto refused = nlohmann::json::parse(read_text(coarse / "eval/fgsm.matched-lr-l.json"));
  EXPECT_FALSE(refused["matched"].get<bool>());
  EXPECT_GT(std::fabs(refused["snapshot_accuracy"].get<double>() - refused["target_accuracy"].get<double>()), 2.0);
  EXPECT_FALSE(fs::exists(coarse / "eval/fgsm.matched-lr-l.csv"));
  EXPECT_FALSE(fs::exists(coarse / "eval/fgsm.matched-lr-l.sweep.csv"));

  // A run without snapshots cannot be matched.
  req.run_dir = lr.path();
  req.match_run = fine.path();
  EXPECT_THROW(evaluate(req), ConfigError);
}

// Snapshots recorded on the first test examples (runs from before the choice moved to the last ones) are re-scored
// on today's split once, and their records rewritten: the choice and the rows are those of a run recorded on it. A
// suite scoring 800 of the 1,000 images scores 300 of the 500 the choice was made on, and the record says so. A
// record of any other split means the data changed: refused.
TEST(Matched, SnapshotsOfTheOlderSplitAreRescoredOnceAndTheOverlapRecorded) {
  test::TempDir fine, lr;
  train_run(test::experiment("demo.yaml", quick({"+train.snapshot_every=1", "+train.snapshot_examples=500",
                                                 "train.optimizer.lr=2.0e-4"})),
            fine.path());
  train_run(test::experiment("demo.yaml", quick({"trainer=lr-l", "train.epochs=1", "train.max_steps=5"})), lr.path());
  EvalRequest req;
  req.run_dir = fine.path();
  req.threat = "fgsm";
  req.overrides = {"eval.n_examples=800"};
  req.match_run = lr.path();
  const auto honest_rows = evaluate(req);
  const auto honest = nlohmann::json::parse(read_text(fine / "eval/fgsm.matched-lr-l.json"));
  ASSERT_TRUE(honest["matched"].get<bool>()) << honest.dump();
  EXPECT_EQ(honest["scored_examples_in_split"].get<int64_t>(), 300);
  auto rewrite = [&](const std::string& split) {
    for (const auto& s : list_snapshots(fine.path())) {
      const auto json = fs::path(s.file).replace_extension(".json");
      auto j = nlohmann::json::parse(read_text(json));
      j["split"] = split;
      j["accuracy"] = 100.0 - j["accuracy"].get<double>();  // accuracies that would choose another snapshot
      write_text_atomic(json, j.dump(2) + "\n");
    }
  };
  rewrite("test[:500]");
  const auto rows = evaluate(req);
  const auto record = nlohmann::json::parse(read_text(fine / "eval/fgsm.matched-lr-l.json"));
  EXPECT_TRUE(record["rescored"].get<bool>());
  EXPECT_EQ(record["split"], "test[500:1000]");
  EXPECT_EQ(record["snapshot_step"], honest["snapshot_step"]);
  EXPECT_EQ(record["snapshot_accuracy"], honest["snapshot_accuracy"]);
  EXPECT_EQ(record["scored_examples_in_split"].get<int64_t>(), 300);
  // The rows score the chosen snapshot, not the last one re-scored.
  const auto& h = rows.header();
  const size_t acc = std::find(h.begin(), h.end(), "accuracy") - h.begin();
  ASSERT_EQ(rows.rows().size(), honest_rows.rows().size());
  for (size_t i = 0; i < rows.rows().size(); ++i) EXPECT_EQ(rows.rows()[i][acc], honest_rows.rows()[i][acc]);
  // Rewritten once: the next evaluation re-scores nothing.
  for (const auto& s : list_snapshots(fine.path())) EXPECT_EQ(s.split, "test[500:1000]");
  evaluate(req);
  EXPECT_FALSE(nlohmann::json::parse(read_text(fine / "eval/fgsm.matched-lr-l.json"))["rescored"].get<bool>());
  rewrite("validation");
  EXPECT_THROW(evaluate(req), DataError);
}
