#include "core/stop_request.h"

#include <signal.h>

#include <atomic>

namespace lrb {

namespace {
std::atomic<int> requested{0};
constexpr int kSignals[] = {SIGTERM, SIGUSR1, SIGINT};
struct sigaction previous[3];
// A repeat of the signal already seen is ignored (Slurm signals every process of a job, and a launcher or job
// script forwards the same signal again), except a second Ctrl-C, which acts at once on a stuck run.
void on_signal(int sig) {
  const int before = requested.exchange(sig);
  if (sig == SIGINT && before == SIGINT) {
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
  }
}
}  // namespace

StopListener::StopListener() {
  requested = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &previous[i]);
}

StopListener::~StopListener() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous[i], nullptr);
}

int stop_requested() { return requested.load(); }

std::string signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
  }
  return "signal " + std::to_string(sig);
}

}  // namespace lrb
