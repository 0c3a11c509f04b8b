// c10d's process groups behind the Collective seam (Gloo on the CPU; NCCL on CUDA where LibTorch has it: the
// torch-wheel build defines LRB_WITH_NCCL), and the --nproc launcher.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO  // ProcessGroupGloo.hpp declares the class only under this macro (Debian's LibTorch has it)
#endif
#if defined(LRB_WITH_NCCL) && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL  // likewise for ProcessGroupNCCL.hpp
#endif
#include "trainers/distributed.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef LRB_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

#include "core/errors.h"

namespace lrb {

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

int env_int(const char* name, int lo, int fallback) {
  auto v = env(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const int n = std::stoi(*v, &used);
    if (used == v->size() && n >= lo) return n;
  } catch (const std::exception&) {
  }
  throw ConfigError(name, fmt::format("environment variable {}={}: expected an integer >= {}", name, *v, lo));
}

std::string first_line(const std::exception& e) {
  std::string s = e.what();
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) s = c->what_without_backtrace();
  return s.substr(0, s.find('\n'));
}

// The process groups' common base: c10d::Backend since LibTorch 2.0, c10d::ProcessGroup in 1.13.
#if TORCH_VERSION_MAJOR >= 2
using GroupBase = c10d::Backend;
#else
using GroupBase = c10d::ProcessGroup;
#endif

// One c10d process group behind the seam. Each dtype's tensors travel as one flat message on `wire` (the CPU for
// Gloo, the rank's GPU for NCCL) and are copied back into the callers' tensors, wherever those live: the trainers
// hand over device gradients and host statistics alike.
class ProcessGroupCollective final : public Collective {
 public:
  ProcessGroupCollective(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<GroupBase> pg, const WorldInfo& w,
                         c10::Device wire, std::string backend)
      : rank_(w.rank), world_(w.world), local_world_(w.local_world), store_(std::move(store)), pg_(std::move(pg)),
        wire_(wire), backend_(std::move(backend)) {}
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  int local_world() const override { return local_world_; }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override {
    each_group(tensors, "all-reduce", [&](std::vector<torch::Tensor>& flat) { pg_->allreduce(flat)->wait(); });
  }
  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    each_group(tensors, "broadcast", [&](std::vector<torch::Tensor>& flat) { pg_->broadcast(flat, o)->wait(); });
  }
  void barrier() override {
    guarded("barrier", [&] { pg_->barrier()->wait(); });
  }

  double seconds() const override { return seconds_; }
  std::string backend() const override { return backend_; }

 private:
  template <class F>
  void guarded(const char* what, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      f();
      seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (const std::exception& e) {
      throw TrainingError(fmt::format("rank {} of {}: the {} with the other ranks ({}) failed ({}): a rank stopped, "
                                      "hung past LRBENCH_DIST_TIMEOUT or lost its network; the run continues from "
                                      "its last state with lrbench train ... --resume",
                                      rank_, world_, what, backend_, first_line(e)));
    }
  }
  // One message per dtype: the tensors are flattened into one buffer on the wire device, reduced, and copied back
  // (c10d's list form means one tensor per device, not a list of tensors).
  template <class F>
  void each_group(std::vector<torch::Tensor>& tensors, const char* what, F&& op) {
    std::map<int, std::vector<size_t>> by_type;
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].defined() && tensors[i].numel() > 0) by_type[static_cast<int>(tensors[i].scalar_type())].push_back(i);
    for (auto& [type, idx] : by_type) {
      std::vector<torch::Tensor> parts;
      for (size_t i : idx) parts.push_back(tensors[i].detach().reshape({-1}).to(wire_));
      std::vector<torch::Tensor> flat{torch::cat(parts)};
      guarded(what, [&] { op(flat); });
      int64_t off = 0;
      for (size_t i : idx) {
        auto& t = tensors[i];
        const int64_t n = t.numel();
        torch::NoGradGuard no_grad;
        t.copy_(flat[0].narrow(0, off, n).view(t.sizes()));
        off += n;
      }
    }
  }

  int rank_, world_, local_world_;
  double seconds_ = 0;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<GroupBase> pg_;
  c10::Device wire_;
  std::string backend_;
};

c10::intrusive_ptr<GroupBase> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const WorldInfo& w,
                                             std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  if (auto ifname = env("GLOO_SOCKET_IFNAME"))
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
  else
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  opts->threads = 1;  // one collective at a time per step: a second thread would only compete with compute
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, w.rank, w.world, opts);
}

#ifdef LRB_WITH_NCCL
// The rank's GPU is made current and bound to the group before its first collective (a barrier), so NCCL never
// guesses it from the rank.
c10::intrusive_ptr<GroupBase> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const WorldInfo& w,
                                         std::chrono::milliseconds timeout, c10::Device gpu) {
  c10::cuda::set_device(gpu.index());
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, w.rank, w.world, opts);
  pg->setBoundDeviceId(gpu);
  return pg;
}
#endif

std::atomic<int> forwarded_signal{0};
void remember_signal(int sig) { forwarded_signal = sig; }

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets; a bracket holds ranges, of which the first
  // number (with its zero padding) names the first host.
  std::string first;
  int depth = 0;
  for (char c : nodelist) {
    if (c == ',' && depth == 0) break;
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    first += c;
  }
  const auto open = first.find('[');
  if (open == std::string::npos) return first;
  std::string inner = first.substr(open + 1);
  const auto end = inner.find_first_of(",-]");
  return first.substr(0, open) + inner.substr(0, end) + (first.find(']') + 1 < first.size() ? first.substr(first.find(']') + 1) : "");
}

std::optional<WorldInfo> world_from_env() {
  WorldInfo w;
  if (env("RANK") || env("WORLD_SIZE")) {
    w.world = env_int("WORLD_SIZE", 1, 1);
    w.rank = env_int("RANK", 0, 0);
    w.local_rank = env_int("LOCAL_RANK", 0, w.rank);
    w.local_world = env_int("LOCAL_WORLD_SIZE", 1, w.world);
    w.launcher = env("LRBENCH_STORE") ? "lrbench --nproc" : "torchrun";
    if (auto s = env("LRBENCH_STORE")) {
      w.store = *s;
    } else {
      w.store = fmt::format("tcp:{}:{}", env("MASTER_ADDR").value_or("127.0.0.1"), env_int("MASTER_PORT", 1, 29500));
    }
  } else if (env("SLURM_PROCID") && env("SLURM_NTASKS") && env_int("SLURM_NTASKS", 1, 1) > 1 &&
             env("SLURM_STEP_ID")) {
    w.world = env_int("SLURM_NTASKS", 1, 1);
    w.rank = env_int("SLURM_PROCID", 0, 0);
    w.local_rank = env_int("SLURM_LOCALID", 0, 0);
    // Tasks on this node: SLURM_STEP_TASKS_PER_NODE is "2(x3),1"-shaped; its first count serves a homogeneous step.
    int local = w.world;
    if (auto per = env("SLURM_STEP_TASKS_PER_NODE")) local = std::max(1, std::atoi(per->c_str()));
    w.local_world = local;
    std::string host = env("MASTER_ADDR").value_or(
        first_slurm_host(env("SLURM_STEP_NODELIST").value_or(env("SLURM_JOB_NODELIST").value_or("127.0.0.1"))));
    const int port = env("MASTER_PORT") ? env_int("MASTER_PORT", 1, 29500) : 29500 + env_int("SLURM_JOB_ID", 0, 0) % 20000;
    w.store = fmt::format("tcp:{}:{}", host, port);
    w.launcher = "slurm";
  } else {
    return std::nullopt;
  }
  if (w.rank >= w.world)
    throw ConfigError("RANK", fmt::format("rank {} is not below the world size {}", w.rank, w.world));
  if (w.world == 1) return std::nullopt;
  return w;
}

std::chrono::milliseconds dist_timeout() {
  return std::chrono::milliseconds(int64_t{1000} * env_int("LRBENCH_DIST_TIMEOUT", 1, 300));
}

bool have_nccl() {
#ifdef LRB_WITH_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Collective> join_world(const WorldInfo& w, std::chrono::milliseconds timeout, c10::Device device) {
  if (device.is_cuda() && !have_nccl())
    throw ConfigError("device", fmt::format("device={}: this lrbench was built without NCCL (its LibTorch has no "
                                            "CUDA), so its ranks cannot meet on GPUs; use the LibTorch 2.x build "
                                            "(make torch2) or device=cpu",
                                            device.str()));
  c10::intrusive_ptr<c10d::Store> store;
  try {
    if (w.store.rfind("file:", 0) == 0) {
      store = c10::make_intrusive<c10d::FileStore>(w.store.substr(5), w.world);
    } else if (w.store.rfind("tcp:", 0) == 0) {
      const auto hp = w.store.substr(4);
      const auto colon = hp.rfind(':');
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(std::stoi(hp.substr(colon + 1)));
      o.isServer = w.rank == 0;
      o.numWorkers = static_cast<size_t>(w.world);
      o.waitWorkers = false;
      o.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(hp.substr(0, colon), o);
    } else {
      throw ConfigError("LRBENCH_STORE", fmt::format("'{}': expected file:PATH or tcp:HOST:PORT", w.store));
    }
    store->setTimeout(timeout);
#ifdef LRB_WITH_NCCL
    if (device.is_cuda())
      return std::make_unique<ProcessGroupCollective>(store, nccl_group(store, w, timeout, device), w, device, "NCCL");
#endif
    return std::make_unique<ProcessGroupCollective>(store, gloo_group(store, w, timeout), w, c10::Device(c10::kCPU),
                                                    "Gloo");
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw TrainingError(fmt::format("rank {} of {} ({}): cannot join the other ranks through {} ({}); check "
                                    "MASTER_ADDR/MASTER_PORT and GLOO_SOCKET_IFNAME (NCCL_SOCKET_IFNAME on GPUs)",
                                    w.rank, w.world, w.launcher, w.store, first_line(e)));
  }
}

int launch_local(int nproc, char** argv) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/lrbench-world-XXXXXX";
  if (!mkdtemp(tmpl)) throw ConfigError("--nproc", "cannot create a temporary directory for the ranks' store");
  const std::string dir = tmpl;
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaction(s, &sa, nullptr);
  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      setpgid(0, 0);  // a terminal's Ctrl-C reaches the launcher only, which passes it on once
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LRBENCH_STORE", ("file:" + dir + "/store").c_str(), 1);
      execv("/proc/self/exe", argv);
      _exit(127);
    }
    pids.push_back(pid);
  }
  int status_out = pids.size() == static_cast<size_t>(nproc) ? 0 : 1;
  size_t running = pids.size();
  bool stopping = false;
  auto stop_all = [&](int sig) {
    for (pid_t p : pids)
      if (p > 0) kill(p, sig);
  };
  if (status_out != 0) stop_all(SIGTERM), stopping = true;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (int s = forwarded_signal.exchange(0)) {
      // Every rank stops at the same step and rank 0 saves the state; their exits are then no failure to act on.
      stop_all(s);
      stopping = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    }
    int st = 0;
    const pid_t done = waitpid(-1, &st, WNOHANG);
    if (done <= 0) {
      if (stopping && std::chrono::steady_clock::now() > deadline) stop_all(SIGKILL);
      usleep(50 * 1000);
      continue;
    }
    int rank = -1;
    for (size_t i = 0; i < pids.size(); ++i)
      if (pids[i] == done) pids[i] = -1, rank = static_cast<int>(i);
    if (rank < 0) continue;  // not one of ours
    --running;
    const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 0 && status_out == 0) status_out = code;
    if (code != 0 && !stopping) {
      std::cerr << fmt::format("lrbench: rank {} of {} exited with status {}; stopping the other ranks\n", rank, nproc,
                               code);
      stopping = true;
      stop_all(SIGTERM);
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return status_out;
}

}  // namespace lrb
