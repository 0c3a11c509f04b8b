#include "core/seed.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/utils.h>

#include <cstdlib>

namespace lrb {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t derive_seed(uint64_t root, std::string_view component) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : component) h = (h ^ c) * 0x100000001b3ULL;
  return splitmix64(splitmix64(root) ^ h);
}

at::Generator make_generator(uint64_t seed, c10::Device device) {
  if (device.is_cuda()) {
    // Context::defaultGenerator is the one spelling LibTorch 1.13 and 2.x share (the CUDA hooks' was renamed).
    auto g = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, device.index() < 0 ? 0 : device.index())).clone();
    g.set_current_seed(seed);
    return g;
  }
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

void set_determinism(uint64_t root_seed) {
  // cuBLAS needs a fixed workspace for reproducible GEMMs; harmless on CPU.
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
  torch::manual_seed(root_seed);
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
  at::globalContext().setBenchmarkCuDNN(false);
}

}  // namespace lrb
