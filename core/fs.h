// Atomic file output: write a temp file in the same directory, then rename, so a crash never leaves a
// half-written result or checkpoint behind.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace lrb {

// `write` fills the stream; the file appears under `path` only when it succeeded.
void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
// For writers that need a file name (torch::save): `write` receives the temp path.
void write_atomic_path(const std::string& path, const std::function<void(const std::string&)>& write);
void write_text_atomic(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
// The entries of a ':'-separated search path (PATH style; empty entries dropped).
std::vector<std::string> split_path(const std::string& search_path);
// Refuses (ConfigError naming `where`, exit 2) a value that becomes one path component but is not a plain
// name: empty, "." or "..", longer than 255 bytes, or holding '/' or a control character (a newline included).
// `what` says what the value is ("suite name", "config group option").
void require_plain_name(const std::string& value, const std::string& where, const std::string& what);
// Lower-case hex digests of a byte buffer ("sha256" or "md5").
std::string digest_hex(const void* data, size_t size, const char* algorithm = "sha256");

}  // namespace lrb
