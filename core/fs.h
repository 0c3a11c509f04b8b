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
// The whole file. Throws Error (exit 1) naming `path` when it cannot be opened or is not a regular file: a
// directory, FIFO or device is refused at once (a FIFO never blocks the read).
std::string read_text(const std::string& path);
// "" for a regular file (or a path that does not exist), else what it is: "a directory", "a FIFO (named
// pipe)", "a socket", "a device". kind_of_mode does the same for a st_mode.
std::string non_regular_kind(const std::string& path);
std::string kind_of_mode(unsigned mode);
// The entries of a ':'-separated search path (PATH style; empty entries dropped).
std::vector<std::string> split_path(const std::string& search_path);
// Refuses (ConfigError naming `where`, exit 2) a value that becomes one path component but is not a plain
// name: empty, "." or "..", longer than 255 bytes, or holding '/' or a control character (a newline included).
// `what` says what the value is ("suite name", "config group option").
void require_plain_name(const std::string& value, const std::string& where, const std::string& what);
// Refuses (ConfigError naming `option`, exit 2) an output path that the work would fail to write at its end:
// empty, holding a control character (a newline would make a run that eval cannot read back), a name over 240
// bytes (lrbench adds suffixes) or a path over 4095, a file path ending in '/', a path through a file, an existing path of the other kind, or a nearest existing
// folder that is not writable. Creates nothing; called before any work.
enum class OutputKind { kDirectory, kFile };
void require_writable_output(const std::string& path, const std::string& option, OutputKind kind);
// Lower-case hex digests of a byte buffer ("sha256" or "md5").
std::string digest_hex(const void* data, size_t size, const char* algorithm = "sha256");

}  // namespace lrb
