#include "bench/bench_main.h"

#include <benchmark/benchmark.h>

#include <utility>
#include <vector>

#include "core/runtime.h"

namespace lrb::bench {
namespace {
std::vector<std::function<void()>>& starts() {
  static std::vector<std::function<void()>> hooks;
  return hooks;
}
}  // namespace

bool on_start(std::function<void()> f) {
  starts().push_back(std::move(f));
  return true;
}

}  // namespace lrb::bench

int main(int argc, char** argv) {
  lrb::reexec_with_passive_threads(argv);
  benchmark::Initialize(&argc, argv);
  for (auto& f : lrb::bench::starts()) f();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
