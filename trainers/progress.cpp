#include "trainers/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/log.h"

namespace lrb {

bool Progress::enabled() {
  static const bool on = ::isatty(STDERR_FILENO) && !std::getenv("CI");
  return on;
}

namespace {
double log_interval() {
  const char* e = std::getenv("LRBENCH_PROGRESS_SECONDS");
  return e ? std::atof(e) : 30.0;
}
std::string clock(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02d}", s / 60, s % 60);
}
// tools/table.sh (make tableN) says where this run stands in its table: LRBENCH_TABLE names it,
// LRBENCH_TABLE_CELLS_LEFT counts the cells after this one and LRBENCH_TABLE_CELL_SECONDS is the mean time of the
// cells it ran so far (absent before the first: this run's own estimated length stands in).
std::string table_eta(double run_left, double run_estimate) {
  const char* table = std::getenv("LRBENCH_TABLE");
  const char* left = std::getenv("LRBENCH_TABLE_CELLS_LEFT");
  if (!table || !*table || !left) return "";
  const char* per = std::getenv("LRBENCH_TABLE_CELL_SECONDS");
  const double per_cell = per && std::atof(per) > 0 ? std::atof(per) : run_estimate;
  return fmt::format(", {} {}", table, clock(run_left + std::max(0, std::atoi(left)) * per_cell));
}
}  // namespace

Progress::Progress(int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step)
    : epoch_(epoch), epochs_(epochs), steps_(steps), first_step_(first_step), on_(enabled()),
      log_every_(on_ ? 0 : log_interval()), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(int64_t step, double loss, double acc, int64_t examples) {
  if (!on_) {
    if (log_every_ <= 0 || step >= steps_) return;  // the epoch's own line follows its last step
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < log_every_) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double per_step = secs / static_cast<double>(std::max<int64_t>(step - first_step_, 1));
    const double epoch_left = per_step * static_cast<double>(steps_ - step);
    const double run_left = epoch_left + per_step * static_cast<double>(steps_ * (epochs_ - epoch_));
    logger("train")->info("epoch {}/{} step {}/{} ({:.0f}%) loss {:.4f} acc {:.2f}% {:.1f} steps/s, ETA epoch {}, run {}{}",
                          epoch_, epochs_, step, steps_, 100.0 * step / std::max<int64_t>(steps_, 1), loss, 100 * acc,
                          per_step > 0 ? 1 / per_step : 0.0, clock(epoch_left), clock(run_left),
                          table_eta(run_left, per_step * static_cast<double>(steps_ * epochs_)));
    return;
  }
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
