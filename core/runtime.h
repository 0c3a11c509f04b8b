// Process-wide run-time settings: intra-op threads and device, chosen from config at run time.
#pragma once
#include <c10/core/Device.h>

#include <string>

namespace lrb {

// "auto" = every core (LibTorch starts with 1 intra-op thread on small machines); else a positive count.
int set_threads(const std::string& setting);
// "auto" = CUDA when available, else CPU; "cpu", "cuda", "cuda:N".
c10::Device pick_device(const std::string& setting);
std::string torch_version();

}  // namespace lrb
