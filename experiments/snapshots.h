// Matched-accuracy snapshots (issue 33): a BP run saves its parameters every train.snapshot_every steps with their
// clean accuracy, so an LR or ES cell can be compared with the BP model of the same clean accuracy instead of a
// better-trained one (an unconverged, less accurate model is "robust" for trivial reasons).
//   RUN_DIR/snapshots/step-0000500.pt    the model's parameters (a checkpoint without optimizer or trainer state)
//   RUN_DIR/snapshots/step-0000500.json  {"step", "epoch", "accuracy" (%), "split", "examples", "sha256"}
// `lrbench eval BP_RUN --match RUN --suite S` picks the snapshot nearest RUN's clean accuracy on the same split and
// evaluates it under S (rows "BP (matched to ALG)"), or says that none is within kMatchTolerancePp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/batch.h"

namespace lrb {

class DatasetSource;

inline constexpr double kMatchTolerancePp = 2.0;

struct Snapshot {
  std::string file;  // the .pt, in the run's snapshots/ folder
  int64_t step = 0, epoch = 0;
  double accuracy = 0;  // %, on `split`
  std::string split, sha256;
  int64_t examples = 0;
};

// The examples a snapshot's accuracy is measured on, and a matched snapshot chosen on: the dataset's validation split,
// else (non-graph data) the last `examples` test examples, so that a suite scoring the first ones (eval.n_examples)
// does not score the images the choice was made on; a graph's test mask, when it has no validation mask.
struct SelectionSplit {
  Batch batch;
  std::string name;         // "validation", "test" (a graph's test mask) or "test[A:N]" (older runs: "test[:N]")
  int64_t first_test = -1;  // a slice of the test set: its first index (it runs to the end); else -1
};
SelectionSplit selection_split(const DatasetSource& data, int64_t examples);

// Every snapshot of RUN_DIR, by step; empty without a snapshots/ folder. DataError names a malformed .json.
std::vector<Snapshot> list_snapshots(const std::string& run_dir);

// Writes the .json of `s` (its .pt already written) atomically.
void write_snapshot_record(const Snapshot& s);

struct SnapshotMatch {
  std::optional<Snapshot> chosen;   // nearest, when within tolerance
  std::optional<Snapshot> nearest;  // nearest, always (when there is any snapshot)
};
// The snapshot whose accuracy is nearest `target` (%), the earlier one on a tie; chosen only when within
// `tolerance_pp`.
SnapshotMatch match_snapshot(const std::vector<Snapshot>& snapshots, double target, double tolerance_pp = kMatchTolerancePp);

}  // namespace lrb
