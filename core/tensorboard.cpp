#include "core/tensorboard.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace lrb {

namespace {

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // Castagnoli, reflected
      t[i] = c;
    }
    return t;
  }();
  return table;
}

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Protocol buffers' wire format, the few fields an Event of a scalar uses (proto3: zero values are left out).
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) out.push_back(static_cast<char>((v & 0x7F) | 0x80)), v >>= 7;
  out.push_back(static_cast<char>(v));
}
template <class T>
void little_endian(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // x86 and arm64 are little-endian, as the wire format
  out.append(b, sizeof(T));
}
void bytes_field(std::string& out, int field, const std::string& bytes) {
  varint(out, static_cast<uint64_t>(field) << 3 | 2);
  varint(out, bytes.size());
  out += bytes;
}
std::string event_head(double wall_time, int64_t step) {
  std::string e;
  if (wall_time != 0 || std::signbit(wall_time)) e.push_back(0x09), little_endian(e, wall_time);  // field 1, fixed64
  if (step != 0) e.push_back(0x10), varint(e, static_cast<uint64_t>(step));  // field 2, varint
  return e;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const auto& t = crc_table();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string TensorBoardWriter::version_event(double wall_time) {
  std::string e = event_head(wall_time, 0);
  bytes_field(e, 3, "brain.Event:2");  // file_version
  return e;
}

std::string TensorBoardWriter::session_start_event(int64_t step, double wall_time) {
  std::string e = event_head(wall_time, step);
  bytes_field(e, 7, std::string("\x08\x01", 2));  // Event.session_log (field 7) = SessionLog{status: START}
  return e;
}

std::string TensorBoardWriter::scalar_event(const std::string& tag, int64_t step, float value, double wall_time) {
  std::string v;
  bytes_field(v, 1, tag);  // Summary.Value.tag
  if (value != 0 || std::signbit(value)) v.push_back(0x15), little_endian(v, value);  // simple_value, fixed32
  std::string summary;
  bytes_field(summary, 1, v);  // Summary.value
  std::string e = event_head(wall_time, step);
  bytes_field(e, 5, summary);  // Event.summary
  return e;
}

std::string TensorBoardWriter::record(const std::string& data) {
  std::string r;
  const uint64_t n = data.size();
  little_endian(r, n);
  little_endian(r, masked_crc32c(r.data(), 8));
  r += data;
  little_endian(r, masked_crc32c(data.data(), data.size()));
  return r;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir, double wall_time) {
  if (wall_time < 0) wall_time = now();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  const auto stem = (std::filesystem::path(dir) / fmt::format("events.out.tfevents.{}.{}.{}",
                                                               static_cast<int64_t>(wall_time), host,
                                                               static_cast<int64_t>(getpid())))
                        .string();
  for (int n = 0; n < 1000 && !file_; ++n) {  // "x": never over another writer's file of the same second
    path_ = n == 0 ? stem : fmt::format("{}.{}", stem, n);
    file_ = std::fopen(path_.c_str(), "wbx");
    if (!file_ && errno != EEXIST) break;
  }
  if (!file_)
    throw ConfigError(path_, fmt::format("--tensorboard: cannot create the event file ({}); choose a writable folder",
                                         std::strerror(errno)));
  write(record(version_event(wall_time)));
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::write(const std::string& bytes) {
  if (failed_) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() || std::ferror(file_)) {
    failed_ = true;
    std::fprintf(stderr, "lrbench: warning: %s: cannot write TensorBoard events (%s); no more are written\n",
                 path_.c_str(), std::strerror(errno));
  }
}

void TensorBoardWriter::session_start(int64_t step, double wall_time) {
  write(record(session_start_event(step, wall_time < 0 ? now() : wall_time)));
}

void TensorBoardWriter::scalar(const std::string& tag, int64_t step, float value, double wall_time) {
  write(record(scalar_event(tag, step, value, wall_time < 0 ? now() : wall_time)));
}

void TensorBoardWriter::flush() {
  if (!failed_ && std::fflush(file_) != 0) {
    failed_ = true;
    std::fprintf(stderr, "lrbench: warning: %s: cannot write TensorBoard events (%s); no more are written\n",
                 path_.c_str(), std::strerror(errno));
  }
}

}  // namespace lrb
