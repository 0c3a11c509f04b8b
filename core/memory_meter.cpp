#include "core/memory_meter.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <malloc.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>

namespace lrb {

namespace {

// One meter at a time (they do not nest): its counters are global because tensors allocated under it may be freed
// after it ends, and their deleters must still find somewhere to subtract from.
std::atomic<int64_t> g_live{0}, g_peak{0}, g_budget{0};
std::mutex g_install;

// Blocks are counted by their usable size, read again when they are freed: the data pointer must stay the
// context pointer (parts of ATen assert it), so there is nowhere else to keep a size.
void release(void* p) {
  g_live -= static_cast<int64_t>(malloc_usable_size(p));
  c10::free_cpu(p);
}

struct CountingAllocator final : c10::Allocator {
  c10::Allocator* inner = nullptr;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override {
#else
  c10::DataPtr allocate(size_t n) const override {
#endif
    // The budget is checked before the system is asked: with overcommit, a too-large block is granted and the
    // process killed only when it is touched.
    if (const int64_t budget = g_budget.load(), ahead = g_live.load() + static_cast<int64_t>(n);
        budget > 0 && ahead > budget)
      throw OutOfMemory(fmt::format("an allocation of {} would take {} past the budget of {}", human_bytes(n),
                                    human_bytes(ahead), human_bytes(budget)),
                        static_cast<int64_t>(n), ahead, /*over_budget=*/true);
    void* p = nullptr;
    try {
      p = c10::alloc_cpu(n);
    } catch (const c10::Error&) {
      throw OutOfMemory(fmt::format("the system could not give {} (with {} already taken)", human_bytes(n),
                                    human_bytes(g_live.load())),
                        static_cast<int64_t>(n), g_live.load() + static_cast<int64_t>(n), /*over_budget=*/false);
    }
    const auto got = static_cast<int64_t>(p ? malloc_usable_size(p) : 0);
    const int64_t now = g_live.fetch_add(got) + got;
    if (const int64_t budget = g_budget.load(); budget > 0 && now > budget) {
      release(p);
      throw OutOfMemory(fmt::format("an allocation of {} would take {} past the budget of {}", human_bytes(got),
                                    human_bytes(now), human_bytes(budget)),
                        got, now, /*over_budget=*/true);
    }
    for (int64_t peak = g_peak.load(); now > peak && !g_peak.compare_exchange_weak(peak, now);) {
    }
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#endif
};

CountingAllocator g_counting;

}  // namespace

MemoryMeter::MemoryMeter(int64_t budget_bytes) {
  g_install.lock();  // released by the destructor: one meter at a time
  g_counting.inner = c10::GetCPUAllocator();
  g_live = 0;
  g_peak = 0;
  g_budget = budget_bytes;
  c10::SetCPUAllocator(&g_counting, /*priority=*/0);
  // A higher-priority allocator would keep its slot, and every measurement would read 0.
  TORCH_CHECK(c10::GetCPUAllocator() == &g_counting, "MemoryMeter: the CPU allocator slot is taken (priority > 0)");
}

MemoryMeter::~MemoryMeter() {
  c10::SetCPUAllocator(g_counting.inner, /*priority=*/0);
  g_budget = 0;
  g_install.unlock();
}

int64_t MemoryMeter::live() const { return g_live.load(); }
int64_t MemoryMeter::peak() const { return g_peak.load(); }
void MemoryMeter::reset_peak() { g_peak = g_live.load(); }

bool is_out_of_memory(const std::string& what) {
  return what.find("can't allocate memory") != std::string::npos || what.find("out of memory") != std::string::npos;
}

int64_t available_memory_bytes() {
  int64_t avail = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    int64_t kb = 0;
    meminfo >> kb;
    if (key == "MemAvailable:") {
      avail = kb * 1024;
      break;
    }
    meminfo.ignore(1 << 10, '\n');
  }
  // Control groups: the room left under every limit from this process's group up to the root (Slurm sets its
  // limit on the job or step, whose leaf task group says "max"); cgroup v2, else v1's memory controller.
  auto room = [&](const std::string& limit_file, const std::string& usage_file) {
    std::ifstream lf(limit_file), uf(usage_file);
    std::string limit;
    int64_t used = 0;
    if (!(lf >> limit) || limit == "max" || !(uf >> used)) return;
    int64_t cap = 0;
    try {
      cap = std::stoll(limit);
    } catch (const std::exception&) {
      return;
    }
    if (cap >= (int64_t{1} << 60)) return;  // v1's "unlimited"
    const int64_t left = std::max<int64_t>(cap - used, 0);
    avail = avail > 0 ? std::min(avail, left) : left;
  };
  std::ifstream cg("/proc/self/cgroup");
  for (std::string line; std::getline(cg, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string group = line.substr(b + 1);
    const bool v2 = line.rfind("0::", 0) == 0;
    const bool v1_memory = !v2 && ("," + controllers + ",").find(",memory,") != std::string::npos;
    if (!v2 && !v1_memory) continue;
    const std::string base = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    for (;;) {
      const std::string dir = base + (group == "/" ? "" : group);
      if (v2) room(dir + "/memory.max", dir + "/memory.current");
      else room(dir + "/memory.limit_in_bytes", dir + "/memory.usage_in_bytes");
      if (group.empty() || group == "/") break;
      const auto slash = group.rfind('/');
      group = slash == 0 || slash == std::string::npos ? "/" : group.substr(0, slash);
    }
  }
  return avail;
}

std::string human_bytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e12) return fmt::format("{:.1f} TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.0f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} KB", b / 1e3);
  return fmt::format("{} bytes", bytes);
}

}  // namespace lrb
