// TensorBoard event files without TensorFlow: scalars written as TensorBoard's own writer writes them (an Event
// protobuf per record, file_version "brain.Event:2" first, TFRecord framing with masked CRC32C), byte for byte
// (tests/unit/core/tensorboard_test.cpp compares with bytes TensorBoard's RecordWriter wrote,
// tools/golden_tensorboard.py). Only what training curves need: scalar summaries.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace lrb {

// CRC-32C (Castagnoli) of `size` bytes, and TFRecord's masked form of it.
uint32_t crc32c(const void* data, size_t size);
uint32_t masked_crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates `dir` and events.out.tfevents.<unix seconds>.<host>.<pid>[.N] in it, never over an existing file (a
  // resumed run adds a file, which TensorBoard reads as one run). `wall_time` < 0: now. Throws ConfigError naming
  // the file when it cannot be created; later write errors (a full disk) only warn once and turn the writer off:
  // a side log never stops training.
  explicit TensorBoardWriter(const std::string& dir, double wall_time = -1);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void scalar(const std::string& tag, int64_t step, float value, double wall_time = -1);
  // SessionLog START at `step`: TensorBoard drops the points at and after it from the files before (a resumed
  // run redoes the steps after its last state; a retrained run starts over).
  void session_start(int64_t step, double wall_time = -1);
  void flush();
  const std::string& path() const { return path_; }

  // The serialized Event of a scalar / of the file version, exposed for the golden test.
  static std::string scalar_event(const std::string& tag, int64_t step, float value, double wall_time);
  static std::string version_event(double wall_time);
  static std::string session_start_event(int64_t step, double wall_time);
  // One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
  static std::string record(const std::string& data);

 private:
  void write(const std::string& bytes);
  std::string path_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

}  // namespace lrb
