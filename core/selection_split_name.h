// The names a matched-accuracy choice records for the examples it was made on (experiments/snapshots.h), and how
// many of the examples a suite scores each one holds. Written by the evaluator, read back by reports, so the format
// lives here once; plain C++ (no torch).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace lrb {

// "test[A:B]": test examples A to B (B excluded).
std::string test_slice_name(int64_t first, int64_t end);

// How many of the first `scored` test examples the split named `split` holds: "validation" none, a graph's "test"
// (its test mask, which a graph's suite always scores whole) all of them, "test[A:B]" those from A to B, "test[:B]"
// (runs from before the choice moved to the last examples) the first B; nullopt for any other name.
std::optional<int64_t> split_overlap(const std::string& split, int64_t scored);

}  // namespace lrb
