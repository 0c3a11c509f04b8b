// Known data files (size and digest of what every loader reads, from shared/data/README.md), gzip-transparent
// reading, and the one-line DataError each loader throws for a missing, truncated or altered file.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "datasets/dataset.h"

namespace lrb::datasets {

// What a file must contain. Digests and size are of the DECOMPRESSED content, so a recompressed .gz of the
// official bytes passes.
struct Expected {
  int64_t size = -1;   // -1: not pinned
  std::string sha256;  // empty: not pinned
  std::string md5;     // only where no sha256 is known (AG News train.csv)
  std::string note;    // caveat shown by verify(), e.g. "LOSSY JPEG q75 copy"
};

// Manifest entry for file `name` (the un-gzipped name) of `group`: mnist, fashion-mnist, cifar10-official,
// cifar10-lossy, cifar10-lossless-partial, ag-news, cora. Unknown pairs are a programming error (logic_error).
const Expected& expected(const std::string& group, const std::string& name);

// `dir/name` if present, else `dir/name.gz`, else "".
std::string locate(const std::string& dir, const std::string& name);

// Extra content check (e.g. label bytes); returns "" when fine, else what is wrong.
using FormatCheck = std::function<std::string(const std::string& bytes)>;

// Reads dir/name (or dir/name.gz), checks it against `e` (and `format`), returns the decompressed bytes.
// Throws DataError: "<file>: <problem> (expected ..., found ...); get the official files with
// tools/fetch_data.sh <dataset> (or set LRBENCH_DATA / data_root)".
std::string read_verified(const std::string& dir, const std::string& name, const Expected& e,
                          const std::string& dataset, const FormatCheck& format = {});

// The same check for `lrbench data verify`: never throws; detail is "sha256 ok" (plus note) or the error line.
FileCheck check_file(const std::string& dir, const std::string& name, const Expected& e, const std::string& dataset,
                     const FormatCheck& format = {});

// "get the official files with tools/fetch_data.sh <dataset> (or set LRBENCH_DATA / data_root)"
std::string fetch_hint(const std::string& dataset);
// "47040016 bytes, sha256 ba891046e650..." (what `e` pins, for error lines).
std::string describe(const Expected& e);

}  // namespace lrb::datasets
