#include "experiments/run_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
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

RunLock::RunLock(const std::string& run_dir, const std::string& verb) {
  const auto path = (fs::path(run_dir) / kLockFile).string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0)
    throw ConfigError(run_dir, fmt::format("cannot open the run's lock file {} ({}); check the directory's "
                                           "permissions",
                                           path, std::strerror(errno)));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;  // no lock file: nobody has ever held this directory
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) busy(fd, run_dir, verb);
  ::close(fd);  // releases the probe
}

namespace {
bool is_temp_name(const std::string& name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string::npos || at + 5 == name.size()) return false;
  for (size_t i = at + 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
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
