#include "core/fs.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace lrb {

namespace {
constexpr size_t kMaxOutputName = 240;
std::string temp_name(const std::string& path) { return fmt::format("{}.tmp.{}", path, ::getpid()); }
}  // namespace

void write_atomic_path(const std::string& path, const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  auto parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  const std::string tmp = temp_name(path);
  try {
    write(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  write_atomic_path(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot create file (check the directory is writable)", tmp), 1);
    write(out);
    out.flush();
    if (!out) throw Error(fmt::format("{}: write failed (disk full?)", tmp), 1);
  });
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_atomic(path, [&](std::ostream& o) { o << text; });
}

std::string non_regular_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return kind_of_mode(st.st_mode);
}

std::string kind_of_mode(unsigned mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

std::string read_text(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the kind is judged on the opened file itself.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw Error(fmt::format("{}: cannot open file ({})", path,
                            errno == EACCES ? "no read permission; chmod u+r it" : std::strerror(errno)),
                1);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const auto kind = kind_of_mode(st.st_mode);
    ::close(fd);
    throw Error(fmt::format("{}: is {}, not a regular file; give the path of the file itself", path,
                            kind.empty() ? "unreadable" : kind),
                1);
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (n == 0) break;
    else if (errno != EINTR) {
      const int err = errno;
      ::close(fd);
      throw Error(fmt::format("{}: read failed ({})", path, std::strerror(err)), 1);
    }
  }
  ::close(fd);
  return out;
}

std::string digest_hex(const void* data, size_t size, const char* algorithm) {
  const EVP_MD* md = EVP_get_digestbyname(algorithm);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, size, out, &len, md, nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return hex;
}

std::vector<std::string> split_path(const std::string& search_path) {
  std::vector<std::string> out;
  for (size_t a = 0, b; a <= search_path.size(); a = b + 1) {
    b = search_path.find(':', a);
    if (b == std::string::npos) b = search_path.size();
    if (b > a) out.push_back(search_path.substr(a, b - a));
  }
  return out;
}

void require_plain_name(const std::string& value, const std::string& where, const std::string& what) {
  std::string why;
  if (value.empty()) why = "is empty";
  else if (value == "." || value == "..") why = "is '" + value + "'";
  else if (value.size() > 255) why = "is longer than 255 bytes";
  else if (value.find('/') != std::string::npos) why = "contains '/'";
  else
    for (unsigned char ch : value)
      if (ch < 0x20 || ch == 0x7f) {
        why = "contains a control character";
        break;
      }
  if (why.empty()) return;
  std::string shown = value.size() > 60 ? value.substr(0, 60) + "..." : value;
  for (auto& ch : shown)
    if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
  throw ConfigError(where, fmt::format("{} '{}' {}: it names a file or folder, so it must be a plain name (no '/', "
                                       "'..' or control characters); rename it",
                                       what, shown, why));
}

void require_writable_output(const std::string& path, const std::string& option, OutputKind kind) {
  namespace fs = std::filesystem;
  auto refuse = [&](const std::string& why) {
    std::string shown = path.size() > 80 ? path.substr(0, 80) + "..." : path;
    for (auto& ch : shown)
      if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    throw ConfigError(option, fmt::format("'{}' {}", shown, why));
  };
  if (path.empty()) throw ConfigError(option, "empty path; give one, or leave the option out for the default");
  for (unsigned char ch : path)
    if (ch < 0x20 || ch == 0x7f) refuse("contains a control character (a newline?); choose a plain path");
  if (path.size() > 4095) refuse("is longer than 4095 bytes; choose a shorter path");
  // 240, not 255: lrbench adds suffixes (".tmp.<pid>" to atomic writes, ".parts" to an eval's rows).
  for (const auto& part : fs::path(path))
    if (part.string().size() > kMaxOutputName) refuse(fmt::format("has a name longer than {} bytes; shorten it", kMaxOutputName));
  if (kind == OutputKind::kFile) {
    const auto name = fs::path(path).filename().string();
    if (name.empty() || name == "." || name == "..") refuse("names a folder (it ends in '/', '.' or '..'); give a file path");
  }
  const char* want = kind == OutputKind::kDirectory ? "a folder" : "a file";
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (fs::exists(st)) {
    if (kind == OutputKind::kDirectory && !fs::is_directory(st)) refuse("exists and is not a folder; give " + std::string(want));
    if (kind == OutputKind::kFile && fs::is_directory(st)) refuse("is a folder; give a file path");
    if (kind == OutputKind::kFile && !fs::is_regular_file(st)) refuse("exists and is not a regular file; give another path");
  }
  // The nearest folder that exists must be a folder and writable: every file and folder is created inside it.
  fs::path at = fs::exists(st) && kind == OutputKind::kDirectory ? fs::path(path) : fs::path(path).parent_path();
  if (at.empty()) at = ".";
  while (!fs::exists(at, ec) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
  if (!fs::exists(at, ec)) at = ".";
  if (!fs::is_directory(at, ec))
    refuse(fmt::format("goes through '{}', which is a file; choose another path", at.string()));
  if (::access(at.c_str(), W_OK | X_OK) != 0)
    refuse(fmt::format("cannot be written: '{}' is not writable ({}); choose a writable path", at.string(),
                       std::strerror(errno)));
}

}  // namespace lrb
