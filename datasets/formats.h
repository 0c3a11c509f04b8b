// The datasets' file formats, parsed without torch: IDX (MNIST, Fashion-MNIST), CIFAR-10 binary records,
// AG News CSV and the whitespace-separated integer rows of Cora's text files. Kept apart from the loaders so
// the parsers can be fuzzed under sanitizers in seconds (tests/fuzz, `make fuzz`). Every parser takes the
// whole file as bytes, never reads outside them, and reports bad input as DataError naming `path` (or, for
// the two that return a problem, as text), never by crashing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lrb::datasets {

// An unsigned-byte IDX array inside `bytes`: magic 0x00 0x00 0x08 ndim, ndim big-endian int32 sizes, data.
struct IdxArray {
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;  // points into the parsed bytes: valid while they are
};
// Throws DataError naming `path` when the header is not an unsigned-byte array of `ndim` dimensions
// or the sizes disagree with the file length.
IdxArray parse_idx(const std::string& bytes, int ndim, const std::string& path);

constexpr int64_t kCifarRecord = 3073;  // label byte + 3x32x32 pixel bytes
// "" when `bytes` is whole 3073-byte CIFAR-10 records with labels 0..9, else what is wrong (for a message).
std::string cifar_record_problem(const std::string& bytes);

// One parsed AG News row: label 0..3 (= class index - 1) and "title description" with line breaks as spaces.
struct AgNewsRow {
  int64_t label = 0;
  std::string text;
  size_t title_size = 0;  // characters of the cleaned title at the start of `text` (the seam is text[title_size])
};
// Parses ag_news_csv text (quoted fields, doubled quotes, 3 fields per row); `path` names errors (DataError).
std::vector<AgNewsRow> parse_ag_news_csv(const std::string& bytes, const std::string& path, bool unescape);

// Whitespace-separated integers, one row per non-empty line (Cora's cora.content, cora.cites and split
// files). Throws std::invalid_argument "line N: ..." (the caller names the file) for a token that is not
// an integer or does not fit 64 bits.
std::vector<std::vector<int64_t>> parse_int_rows(const std::string& bytes);

}  // namespace lrb::datasets
