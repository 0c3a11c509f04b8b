// What a piece of work allocates, measured rather than guessed: while a MemoryMeter lives, every CPU tensor
// allocation goes through a counting allocator (c10's CPU allocator slot), so `check` and `train` can size a
// step from a probe, and building a model can be stopped at a budget before the machine starts swapping or the
// kernel's OOM killer ends the process without a word. Allocations outside c10 (BLAS and oneDNN scratch) are
// not seen; the estimates built on it say so.
#pragma once
#include <cstdint>
#include <string>

#include "core/errors.h"

namespace lrb {

// An allocation the meter refused (over its budget) or the system could not give: exit 1. `requested` is the
// allocation's size, `total` what would then have been live under the meter.
class OutOfMemory : public Error {
 public:
  OutOfMemory(std::string msg, int64_t requested, int64_t total, bool over_budget)
      : Error(std::move(msg), 1), requested_(requested), total_(total), over_budget_(over_budget) {}
  int64_t requested() const { return requested_; }
  int64_t total() const { return total_; }
  bool over_budget() const { return over_budget_; }  // else the system refused (a ulimit, a full machine)

 private:
  int64_t requested_, total_;
  bool over_budget_;
};

class MemoryMeter {
 public:
  // budget_bytes > 0: an allocation that would take the bytes live under this meter above it throws OutOfMemory.
  explicit MemoryMeter(int64_t budget_bytes = 0);
  ~MemoryMeter();
  MemoryMeter(const MemoryMeter&) = delete;
  MemoryMeter& operator=(const MemoryMeter&) = delete;
  int64_t live() const;  // bytes allocated under this meter and not yet freed
  int64_t peak() const;  // the most live at once since construction or reset_peak()
  void reset_peak();
};

// Whether an error's text says an allocation failed (c10's "can't allocate memory", CUDA's "out of memory"): the
// one test every layer that reports out of memory uses.
bool is_out_of_memory(const std::string& what);

// Bytes this process can still take: the smaller of the kernel's MemAvailable and what the cgroup's memory.max
// leaves (a Slurm job's limit). 0 when neither can be read.
int64_t available_memory_bytes();
// "1.5 GB", "312 MB", "4.0 KB": decimal units, as free(1) -h and Slurm print them.
std::string human_bytes(int64_t bytes);

}  // namespace lrb
