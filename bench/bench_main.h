// The main() of every benchmark program (bench_main.cpp): the thread environment lrbench runs with
// (core/runtime.h reexec_with_passive_threads), then Google Benchmark. A program that has work to do before
// its benchmarks (an op profile asked for by an environment variable) registers it with on_start.
#pragma once
#include <functional>

namespace lrb::bench {

// Runs f after Google Benchmark has read its flags, before the benchmarks; returns true (for a static).
bool on_start(std::function<void()> f);

}  // namespace lrb::bench
