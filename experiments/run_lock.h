// One writer per run directory: an advisory lock (flock on RUN/.lock) held by the process that trains or
// evaluates the run, for as long as it works on it. The lock file names the holder (pid, verb), so a refused
// second process can say who has the run. A flock dies with its process (kill -9 included): a crashed run never
// leaves a stale lock behind, and the file itself is harmless to the next holder.
#pragma once
#include <string>

#include "core/errors.h"

namespace lrb {

constexpr const char* kLockFile = ".lock";

// A run another lrbench process is working on: exit 1, the holder named.
class RunBusyError : public Error {
 public:
  explicit RunBusyError(std::string msg) : Error(std::move(msg), 1) {}
};

class RunLock {
 public:
  // Takes run_dir's lock (creating run_dir/.lock; run_dir must exist). Throws RunBusyError naming the holder when
  // another process has it: "still training" for a train, "being evaluated" for an eval.
  RunLock(const std::string& run_dir, const std::string& verb);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// Throws RunBusyError as RunLock would when another process holds run_dir's lock; creates nothing (a check
// before run_dir is known to be ours).
void refuse_if_busy(const std::string& run_dir, const std::string& verb);

// Removes the temp files of atomic writes (NAME.tmp.PID) that a killed process left in dir: call it holding
// dir's lock, when no other lrbench process can be writing there. Returns how many went.
int remove_stale_temp_files(const std::string& dir);

// Lists only lrbench's own scaffolding (the lock file, temp files of atomic writes)?
bool only_scaffolding(const std::string& dir);

}  // namespace lrb
