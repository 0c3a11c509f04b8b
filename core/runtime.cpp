#include "core/runtime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <malloc.h>
#include <unistd.h>

#include <mutex>

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <vector>
#include <cstdlib>
#include <thread>

#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"

namespace lrb {

namespace {
// OpenBLAS's thread controls, looked up at run time: the process may link another BLAS.
struct OpenBlasThreads {
  int (*get)() = nullptr;
  void (*set)(int) = nullptr;
  OpenBlasThreads() {
    // An OpenMP build of OpenBLAS (openblas_get_parallel() 2) follows the calling thread's OpenMP team size, which
    // run_tasks_on_threads sets, and its set_num_threads would change the caller's ATen threads too: leave it alone.
    const auto parallel = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (parallel && parallel() == 2) return;
    get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  }
};
const OpenBlasThreads& openblas_threads() {
  static const OpenBlasThreads t;
  return t;
}
}  // namespace

BlasOnCallingThread::BlasOnCallingThread() {
  const auto& t = openblas_threads();
  if (!t.get || !t.set) return;
  previous_ = t.get();
  if (previous_ > 1) t.set(1);
  else previous_ = 0;
}

BlasOnCallingThread::~BlasOnCallingThread() {
  if (previous_ > 0) openblas_threads().set(previous_);
}

namespace {
// libgomp's team size is a per-thread setting: a new thread's own copy, so setting it leaves the caller's alone. ATen
// sets a new thread's team size to its global count on the thread's first parallel op: have that happen first.
void make_this_thread_single_threaded() {
  static const auto omp_set_num_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  at::get_num_threads();
  if (omp_set_num_threads) omp_set_num_threads(1);
}

// Worker threads kept from one run_tasks_on_threads call to the next. A new thread's first ATen op runs
// at::set_num_threads, which re-creates ATen's global pthreadpool (for QNNPACK) whose fresh workers spin for
// milliseconds: perf found 8 % of a VGG-8 LR-WL step there when every call started threads of its own.
class TaskThreads {
 public:
  // Runs work(t) once for each t in [0, used), on workers 0..used-1, and returns when all are done; false (nothing
  // run) when another caller has the workers. work must keep its own exceptions (one that escapes is dropped).
  bool run(int64_t used, const std::function<void(int64_t)>& work) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy) return false;
    {
      std::lock_guard<std::mutex> lock(m_);
      for (; started_ < used; ++started_)  // each lives as long as the process: the pool is never destroyed
        std::thread(&TaskThreads::loop, this, started_).detach();
      work_ = &work, wanted_ = used, finished_ = 0, ++generation_;
    }
    wake_.notify_all();
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [&] { return finished_ == wanted_; });
    work_ = nullptr;
    return true;
  }

 private:
  void loop(int64_t index) {
    make_this_thread_single_threaded();
    int64_t seen = 0;
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= wanted_) continue;
      const auto* work = work_;
      lock.unlock();
      try {
        (*work)(index);
      } catch (...) {  // run_tasks_on_threads' work keeps its tasks' exceptions; a detached thread must not end here
      }
      lock.lock();
      if (++finished_ == wanted_) done_.notify_all();
    }
  }
  std::mutex busy_;  // one job at a time
  std::mutex m_;
  std::condition_variable wake_, done_;
  int64_t started_ = 0;
  const std::function<void(int64_t)>* work_ = nullptr;
  int64_t generation_ = 0, wanted_ = 0, finished_ = 0;
};

std::atomic<TaskThreads*> g_task_threads{nullptr};

TaskThreads& task_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_task_threads = new TaskThreads;
    // A forked child has none of the parent's threads (and maybe a held lock): it starts a pool of its own.
    pthread_atfork(nullptr, nullptr, [] { g_task_threads = new TaskThreads; });
  });
  return *g_task_threads;
}
}  // namespace

void run_tasks_on_threads(int64_t n, int threads, const std::function<void(int64_t)>& task) {
  const int64_t used = std::min<int64_t>(threads, n);
  if (used <= 1) {
    for (int64_t i = 0; i < n; ++i) task(i);
    return;
  }
  // (MKL, the LibTorch 2.x wheel's BLAS, keeps its own count, which ATen's set-up makes the global one: there a lane's
  // products may still split; calling the wheel's mkl_set_num_threads_local from here crashed.)
  const bool grad = at::GradMode::is_enabled();
  BlasOnCallingThread blas;
  std::atomic<int64_t> next{0};
  std::vector<std::exception_ptr> errors(used);
  const std::function<void(int64_t)> work = [&](int64_t t) {
    at::AutoGradMode grad_mode(grad);
    try {
      for (int64_t i = next++; i < n; i = next++) task(i);
    } catch (...) {
      errors[t] = std::current_exception();
      next = n;
    }
  };
  if (!task_threads().run(used, work)) {  // the workers are another caller's: threads of this call's own
    std::vector<std::thread> pool;
    pool.reserve(used);
    try {
      for (int64_t t = 0; t < used; ++t)
        pool.emplace_back([&work, t] {
          make_this_thread_single_threaded();
          work(t);
        });
    } catch (...) {  // no thread to start: stop the started ones at their next task, then report it
      next = n;
      for (auto& th : pool) th.join();
      throw;
    }
    for (auto& th : pool) th.join();
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void keep_freed_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  });
}

void reexec_with_passive_threads(char** argv) {
  bool changed = false;
  for (auto [name, value] : {std::pair{"OMP_WAIT_POLICY", "PASSIVE"}, std::pair{"OPENBLAS_THREAD_TIMEOUT", "22"}})
    if (!std::getenv(name)) setenv(name, value, 1), changed = true;
  if (changed) execv("/proc/self/exe", argv);  // on failure, carry on with the libraries' defaults
}

int64_t cache_block_bytes() {
  static const int64_t bytes = [] {
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return std::clamp<int64_t>(l2 > 0 ? 8 * static_cast<int64_t>(l2) : int64_t{8} << 20, int64_t{4} << 20,
                               int64_t{32} << 20);
  }();
  return bytes;
}

int set_threads(const std::string& setting) {
  keep_freed_memory();
  int n = 0;
  if (setting == "auto") {
    // `lrbench sweep --jobs N` gives each cell its share; a Slurm task gets the cores it asked for
    // (--cpus-per-task), not the node's.
    const char* share = std::getenv("LRBENCH_AUTO_THREADS");
    const char* slurm = std::getenv("SLURM_CPUS_PER_TASK");
    n = share ? std::atoi(share) : 0;
    if (n <= 0) n = slurm ? std::atoi(slurm) : 0;
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
  } else {
    try {
      n = decode_scalar<int>(setting);
    } catch (const std::exception&) {
      throw ConfigError("threads", "invalid value (got '" + setting + "', expected 'auto' or a positive integer)");
    }
    if (n <= 0) throw ConfigError("threads", "out of range (got " + setting + ", expected >= 1 or 'auto')");
    // More threads than cores only adds switching; thousands exhaust the process's thread stacks and hang in
    // the OpenMP pool's start. The cap is per machine (checked where the run runs, not by `check`).
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    if (n > kMaxThreadsPerCore * cores) {
      logger("runtime")->warn("threads={} is more than {}x this machine's {} cores: using {}", n, kMaxThreadsPerCore, cores,
                   kMaxThreadsPerCore * cores);
      n = kMaxThreadsPerCore * cores;
    }
  }
  at::set_num_threads(n);
  return n;
}

c10::Device pick_device(const std::string& setting) {
  // A GPU without an index is the rank's own: its rank on this host (torchrun's LOCAL_RANK, Slurm's
  // SLURM_LOCALID; as trainers/distributed.cpp reads them) modulo the GPUs it sees, else the first.
  auto own_gpu = [] {
    const char* local = std::getenv("LOCAL_RANK");
    if (!local || !*local) local = std::getenv("SLURM_LOCALID");
    const int n = static_cast<int>(torch::cuda::device_count());
    const int r = local && *local ? std::atoi(local) : 0;
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(n > 0 && r >= 0 ? r % n : 0));
  };
  if (setting == "auto") return torch::cuda::is_available() ? own_gpu() : c10::Device(c10::kCPU);
  try {
    c10::Device d(setting);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw ConfigError("device", "CUDA requested but this LibTorch build has no usable GPU (use device=cpu)");
    return d.is_cuda() && !d.has_index() ? own_gpu() : d;
  } catch (const c10::Error&) {
    throw ConfigError("device", "invalid device '" + setting + "' (expected auto, cpu, cuda or cuda:N)");
  }
}

std::string torch_version() { return TORCH_VERSION; }

}  // namespace lrb
