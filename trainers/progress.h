// Progress: a bar on a terminal; elsewhere (a pipe, nohup, make tableN, CI) a log line every
// LRBENCH_PROGRESS_SECONDS (default 30) with the step, throughput and the ETA of the epoch and of the run, so a long
// cell never goes quiet between "training" and "trained in".
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace lrb {

class Progress {
 public:
  // `first_step`: the step this process starts the epoch at (a resumed epoch), so rates count its own steps only.
  Progress(int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step = 0);
  void update(int64_t step, double loss, double acc, int64_t examples);
  void finish();
  static bool enabled();  // a terminal: the bar

 private:
  int64_t epoch_, epochs_, steps_, first_step_;
  bool on_;
  double log_every_;  // seconds between log lines when not on a terminal (<= 0: none)
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lrb
