// A polite stop for training runs: Slurm's preemption signals (SIGTERM, and SIGUSR1 for jobs submitted with
// --signal=USR1@T) and Ctrl-C, caught while a StopListener lives, only set a flag; the training loop checks it
// between steps, writes its resume state and exits (Interrupted: 128 + the signal), so a preempted or requeued
// job continues with --resume without losing a step. Repeats are ignored, except a second Ctrl-C, which kills.
// Outside a listener the signals keep their default action.
#pragma once
#include <string>

#include "core/errors.h"

namespace lrb {

class StopListener {
 public:
  StopListener();
  ~StopListener();
  StopListener(const StopListener&) = delete;
  StopListener& operator=(const StopListener&) = delete;
};

// The signal that asked to stop since the listener started, or 0.
int stop_requested();
// The signal's name ("SIGTERM").
std::string signal_name(int sig);

// Training stopped at a step boundary on request, its state saved: exit 128 + the signal.
class Interrupted : public Error {
 public:
  Interrupted(std::string msg, int sig) : Error(std::move(msg), 128 + sig) {}
};

}  // namespace lrb
