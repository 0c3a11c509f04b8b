// Process-wide run-time settings: intra-op threads and device, chosen from config at run time.
#pragma once
#include <c10/core/Device.h>

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

}  // namespace lrb
