// Process-wide run-time settings: intra-op threads and device, chosen from config at run time.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
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
// libgomp and OpenBLAS read how their idle threads wait when they load, before main, and both default to
// spinning: libgomp busy-waits, and OpenBLAS's pthread workers call sched_yield for ~2^28 cycles after every
// GEMM. On 2 cores the spinning thread held a core that oneDNN and ATen needed (perf: 37 % of an LR-WL step
// in sched_yield; the ResNet-5 step at copies ÷10 went from 0.41 to 0.30 s without it). Sets
// OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles, then sleep) where unset and re-executes
// the program once; an explicit setting is respected. Call first thing in main().
void reexec_with_passive_threads(char** argv);
// The bytes a cache-sized block of work should span: 8x the L2 cache of one core, within [4, 32] MB (below
// glibc's largest mmap threshold, so its buffers are reused, not re-faulted).
int64_t cache_block_bytes();

}  // namespace lrb
