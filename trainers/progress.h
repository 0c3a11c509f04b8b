// Progress bar on a terminal; silent otherwise (the fit loop logs one line per epoch instead).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace lrb {

class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, int64_t steps);
  void update(int64_t step, double loss, double acc, int64_t examples);
  void finish();
  static bool enabled();

 private:
  int64_t epoch_, epochs_, steps_;
  bool on_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lrb
