#include "trainers/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace lrb {

bool Progress::enabled() {
  static const bool on = ::isatty(STDERR_FILENO) && !std::getenv("CI");
  return on;
}

Progress::Progress(int64_t epoch, int64_t epochs, int64_t steps)
    : epoch_(epoch), epochs_(epochs), steps_(steps), on_(enabled()), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(int64_t step, double loss, double acc, int64_t examples) {
  if (!on_) return;
  auto now = std::chrono::steady_clock::now();
  if (step < steps_ && now - last_ < std::chrono::milliseconds(200)) return;  // keep the terminal calm
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double eta = step > 0 ? secs / step * (steps_ - step) : 0;
  const int width = 24;
  int filled = steps_ > 0 ? static_cast<int>(width * step / steps_) : width;
  std::string bar(filled, '=');
  if (filled < width) bar += '>', bar += std::string(width - filled - 1, ' ');
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld loss %.4f acc %.2f%% %.0f ex/s ETA %d:%02d",
               (long long)epoch_, (long long)epochs_, bar.c_str(), (long long)step, (long long)steps_, loss,
               100 * acc, secs > 0 ? examples / secs : 0.0, int(eta) / 60, int(eta) % 60);
  std::fflush(stderr);
}

void Progress::finish() {
  if (!on_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace lrb
