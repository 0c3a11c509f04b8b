// One run over many processes (scale-out): who this process is, how it reaches the others, and the local
// launcher behind `lrbench train --nproc N`. The engine inside a run is LibTorch's c10d (a Gloo process group
// on CPU, NCCL on GPUs); the launch conventions are torchrun's and Slurm's, so `torchrun`-style scripts and `srun` work
// unchanged. What each rank computes is the trainer's business (Trainer::set_collective).
#pragma once
#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "trainers/collective.h"

namespace lrb {

struct WorldInfo {
  int rank = 0, world = 1, local_rank = 0, local_world = 1;
  std::string store;     // file:PATH (one host: --nproc's children) or tcp:HOST:PORT (rank 0 serves it)
  std::string launcher;  // "lrbench --nproc", "torchrun" or "slurm": the environment that said so
};

// The world this process belongs to, from its environment, or nullopt for a one-process run. Read in order:
// torchrun's RANK and WORLD_SIZE (with LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT; --nproc's
// children add LRBENCH_STORE=file:PATH), then Slurm's SLURM_PROCID and SLURM_NTASKS (a step of more than one
// task, as `srun` starts; MASTER_ADDR defaults to the first host of SLURM_STEP_NODELIST or SLURM_JOB_NODELIST,
// MASTER_PORT to 29500 + SLURM_JOB_ID mod 20000). A malformed value is a ConfigError naming the variable.
std::optional<WorldInfo> world_from_env();

// The first host name of a Slurm node list ("gpu[07-09,12],cpu01" -> "gpu07").
std::string first_slurm_host(const std::string& nodelist);

// Joins the world over the store: for a run on the CPU a Gloo process group, on the interface GLOO_SOCKET_IFNAME
// names (else the host name's address); for a run on a GPU an NCCL one (builds whose LibTorch has CUDA; others
// refuse it with a ConfigError). Every collective of the group gives up after `timeout` (a peer that died or
// hangs); on Gloo its failure is then a TrainingError naming the rank and what to do, while NCCL's watchdog ends
// the process itself (TORCH_NCCL_ASYNC_ERROR_HANDLING); either way the run resumes with --resume.
std::unique_ptr<Collective> join_world(const WorldInfo& w, std::chrono::milliseconds timeout,
                                       c10::Device device = c10::Device(c10::kCPU));

// The collectives' timeout: LRBENCH_DIST_TIMEOUT seconds, default 300.
std::chrono::milliseconds dist_timeout();

// `lrbench train --nproc N`: runs /proc/self/exe with `argv` N times on this host, each with the world in its
// environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, LRBENCH_STORE), and waits. When a rank fails the
// others are stopped (SIGTERM, then SIGKILL after 10 s); SIGINT/SIGTERM/SIGUSR1 sent to the launcher are passed
// on. Returns the exit status to report: 0, or the first failed rank's.
int launch_local(int nproc, char** argv);

}  // namespace lrb
