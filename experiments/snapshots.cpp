#include "experiments/snapshots.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "core/fs.h"
#include "core/selection_split_name.h"
#include "datasets/dataset.h"

namespace lrb {

namespace fs = std::filesystem;

SelectionSplit selection_split(const DatasetSource& data, int64_t examples) {
  SelectionSplit s;
  if (const Batch* v = data.validation()) {
    s.batch = *v, s.name = "validation";
    return s;
  }
  const Batch& test = data.test();
  if (test.mask.defined()) {  // a graph is one example: its test mask is the split
    s.batch = test, s.name = "test";
    return s;
  }
  const int64_t total = test.x.size(0), n = std::min<int64_t>(examples, total);
  s.first_test = total - n;
  s.name = test_slice_name(s.first_test, total);
  s.batch = test.rows(torch::arange(s.first_test, total, torch::TensorOptions().dtype(torch::kLong).device(test.x.device())));
  return s;
}

std::vector<Snapshot> list_snapshots(const std::string& run_dir) {
  std::vector<Snapshot> out;
  const fs::path dir = fs::path(run_dir) / "snapshots";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json") continue;
    const auto path = e.path().string();
    auto j = nlohmann::json::parse(read_text(path), nullptr, false);
    Snapshot s;
    try {
      s.step = j.at("step").get<int64_t>();
      s.epoch = j.at("epoch").get<int64_t>();
      s.accuracy = j.at("accuracy").get<double>();
      s.split = j.at("split").get<std::string>();
      s.examples = j.at("examples").get<int64_t>();
      s.sha256 = j.at("sha256").get<std::string>();
    } catch (const std::exception&) {
      throw DataError(fmt::format("{}: not a snapshot record (expected JSON with step, epoch, accuracy, split, examples, "
                                  "sha256); delete it and its .pt, or retrain the run",
                                  path));
    }
    s.file = (dir / e.path().stem()).string() + ".pt";
    if (!fs::exists(s.file)) continue;  // a kill between the two writes: the record without its parameters
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) { return a.step < b.step; });
  return out;
}

void write_snapshot_record(const Snapshot& s) {
  nlohmann::json j = {{"step", s.step},         {"epoch", s.epoch},       {"accuracy", s.accuracy},
                      {"split", s.split},       {"examples", s.examples}, {"sha256", s.sha256}};
  write_text_atomic(fs::path(s.file).replace_extension(".json").string(), j.dump(2) + "\n");
}

SnapshotMatch match_snapshot(const std::vector<Snapshot>& snapshots, double target, double tolerance_pp) {
  SnapshotMatch m;
  for (const auto& s : snapshots)
    if (!m.nearest || std::fabs(s.accuracy - target) < std::fabs(m.nearest->accuracy - target)) m.nearest = s;
  // "Within 2 pp" includes 2 pp; the accuracies are printed to 2 decimals, so allow their rounding.
  if (m.nearest && std::fabs(m.nearest->accuracy - target) <= tolerance_pp + 1e-9) m.chosen = m.nearest;
  return m;
}

}  // namespace lrb
