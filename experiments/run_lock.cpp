#include "experiments/run_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lrb {

namespace fs = std::filesystem;

namespace {
std::string read_holder(int fd) {
  char buf[128] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

[[noreturn]] void busy(int fd, const std::string& run_dir, const std::string& verb) {
  const std::string holder = read_holder(fd);  // "pid 123 lrbench train"
  ::close(fd);
  const bool training = holder.find(" train") != std::string::npos;
  throw RunBusyError(fmt::format("{}: {} ({}); {}", run_dir,
                                 training ? "the run is still training" : "another lrbench process is working on this run",
                                 holder.empty() ? "holder unknown" : holder,
                                 training ? (verb == "eval" ? "evaluate it when training has finished"
                                                            : "wait for it, or stop it first (it resumes with --resume)")
                                          : "wait for it to finish, then run this again"));
}
}  // namespace

// A lock file that is not a regular file (a FIFO would block a reader): refused naming it.
static void require_regular(int fd, const std::string& path) {
  struct stat st {};
  if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ConfigError(path, "the run's lock file is not a regular file; remove it");
  }
}

RunLock::RunLock(const std::string& run_dir, const std::string& verb) {
  const auto path = (fs::path(run_dir) / kLockFile).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd_ < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
    // A run this user may read but not write (read-only file system, another user's run): an eval still works,
    // guarded by a shared lock on the existing file, or by none.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd_ < 0) return;
    require_regular(fd_, path);
    if (flock(fd_, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
      const int fd = fd_;
      fd_ = -1;
      busy(fd, run_dir, verb);
    }
    return;
  }
  if (fd_ < 0)
    throw ConfigError(run_dir, fmt::format("cannot open the run's lock file {} ({}); check the directory's "
                                           "permissions",
                                           path, std::strerror(errno)));
  require_regular(fd_, path);
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return;  // a file system without flock (ENOLCK, ENOSYS): work unguarded
    const int fd = fd_;
    fd_ = -1;
    busy(fd, run_dir, verb);
  }
  const std::string me = fmt::format("pid {} lrbench {}\n", ::getpid(), verb);
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock holds without the note; only a refused process's message loses the holder's name.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

void refuse_if_busy(const std::string& run_dir, const std::string& verb) {
  const auto path = (fs::path(run_dir) / kLockFile).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return;  // no lock file: nobody has ever held this directory
  require_regular(fd, path);
  if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) busy(fd, run_dir, verb);
  ::close(fd);  // releases the probe
}

namespace {
// NAME.tmp.PID of a file a run directory holds (core/fs.h's atomic writes), and nothing a user might own.
bool is_temp_name(const std::string& name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string::npos || at + 5 == name.size()) return false;
  for (size_t i = at + 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  const std::string base = name.substr(0, at);
  for (const char* known : {"config.resolved.yaml", "run.json", "checkpoint.pt", "resume.pt", "metrics.csv"})
    if (base == known) return true;
  return false;
}
}  // namespace

int remove_stale_temp_files(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && is_temp_name(e.path().filename().string()) && fs::remove(e.path(), ec)) ++removed;
  return removed;
}

bool only_scaffolding(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name == kLockFile || is_temp_name(name)) continue;
    return false;
  }
  return true;
}

}  // namespace lrb
