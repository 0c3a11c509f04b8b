#include "core/stop_request.h"

#include <signal.h>
#include <string.h>

#include <atomic>

namespace lrb {

namespace {
std::atomic<int> requested{0};
constexpr int kSignals[] = {SIGTERM, SIGUSR1, SIGINT};
struct sigaction previous[3];
void on_signal(int sig) { requested.store(sig); }
}  // namespace

StopListener::StopListener() {
  requested = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;  // a second signal acts at once: Ctrl-C twice still kills a stuck run
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &previous[i]);
}

StopListener::~StopListener() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous[i], nullptr);
}

int stop_requested() { return requested.load(); }

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace lrb
