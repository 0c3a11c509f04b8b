// One root seed per run; every component derives its own seed from it by name (splitmix64 over FNV-1a),
// so adding a component never shifts the random stream of another.
#pragma once
#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string_view>

namespace lrb {

uint64_t splitmix64(uint64_t x);
uint64_t derive_seed(uint64_t root, std::string_view component);
// An explicit generator on `device`'s type (CPU or CUDA), seeded; never the global one.
at::Generator make_generator(uint64_t seed, c10::Device device = c10::Device(c10::kCPU));
// Global switches: torch::manual_seed and deterministic algorithms (also for cuBLAS/cuDNN).
void set_determinism(uint64_t root_seed);

}  // namespace lrb
