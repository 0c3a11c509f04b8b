// Process-wide run-time settings: intra-op threads and device, chosen from config at run time.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>

namespace lrb {

// "auto" = every core (LibTorch starts with 1 intra-op thread on small machines), or a Slurm task's
// SLURM_CPUS_PER_TASK; else a positive count, capped (with a warning) at kMaxThreadsPerCore x the cores.
constexpr int kMaxThreadsPerCore = 4;
int set_threads(const std::string& setting);
// "auto" = CUDA when available, else CPU; "cpu", "cuda", "cuda:N".
c10::Device pick_device(const std::string& setting);
std::string torch_version();
// Keeps freed blocks (up to 32 MB, glibc's maximum) in the heap instead of returning them to the OS: in
// VMs re-faulting fresh pages costs ~7 µs per 4 KB, which made an 8 MB ReLU 20x slower and attack steps
// (fresh activations every pass) ~1.5x slower than PyTorch's. Idempotent; called by set_threads().
void keep_freed_memory();
// libgomp and OpenBLAS read how their idle threads wait when they load, before main. libgomp's default
// busy-wait keeps a core spinning that the other pool needs (LR steps 3x slower on 2 cores), so it gets
// OMP_WAIT_POLICY=PASSIVE. OpenBLAS's pthread workers call sched_yield for 2^28 cycles (~0.1 s) after every
// GEMM: perf found 37 % of a ResNet-5 LR-WL step there, holding a core through oneDNN's convolutions. Waking
// them costs too, where a recurrent or spiking step runs many small GEMMs back to back, so the spin is cut to
// 2^22 cycles (~1 ms), not to nothing. Measured on 2 cores (AMD EPYC; medians of 3, ±10 % between runs):
//   OPENBLAS_THREAD_TIMEOUT  ResNet-5 LR-WL ÷10  VGG-8 LR-WL ÷10  LSTM LR (100 copies)  SNN LR (layer-wise, joint)
//   28 (OpenBLAS default)    0.337 s             1.06 s           3.10 s                330 ms, 211 ms
//   24                       0.263 s             1.10 s           2.83 s                359 ms, 234 ms
//   22                       0.243 s             0.96 s           2.80 s                348 ms, 216 ms
//   20                       0.241 s             0.99 s           3.02 s                470 ms, 317 ms
//   4 (sleep at once)        0.226 s             0.99 s           3.67 s                1033 ms, 604 ms
// Sets OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=22 where unset and re-executes the program once;
// an explicit setting is respected. Call first thing in main().
void reexec_with_passive_threads(char** argv);
// While alive, OpenBLAS (its pthreads build) computes on the calling thread only (its own worker pool idle), then
// goes back to its earlier thread count. For work split over threads that each call BLAS: two callers would
// otherwise share OpenBLAS's pool and wait on each other. A no-op under another BLAS or OpenBLAS's OpenMP build (they
// follow the calling thread's own settings, which run_tasks_on_threads sets).
class BlasOnCallingThread {
 public:
  BlasOnCallingThread();
  ~BlasOnCallingThread();
  BlasOnCallingThread(const BlasOnCallingThread&) = delete;
  BlasOnCallingThread& operator=(const BlasOnCallingThread&) = delete;

 private:
  int previous_ = 0;  // 0: nothing to restore
};
// Runs task(i) for every i in [0, n) on `threads` worker threads (fewer when n is smaller), each taking the next
// task when it is done and running ATen and OpenBLAS on itself alone: for work made of many small ops, which split
// over the cores cost more in hand-overs than they gain. The workers are kept for the next call (a new thread's first
// ATen op re-creates ATen's pthreadpool); a call made while another holds them starts threads of its own. Grad mode
// is the caller's. A task that throws stops the others from starting new tasks; once all threads are done, the
// exception of the lowest-numbered thread that caught one is rethrown here. threads <= 1: the tasks in order on this
// thread.
void run_tasks_on_threads(int64_t n, int threads, const std::function<void(int64_t)>& task);
// The bytes a cache-sized block of work should span: 8x the L2 cache of one core, within [4, 32] MB (below
// glibc's largest mmap threshold, so its buffers are reused, not re-faulted).
int64_t cache_block_bytes();

}  // namespace lrb
