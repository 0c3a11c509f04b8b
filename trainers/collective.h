// How the processes of one run combine their partial results (scale-out). Trainers see only this seam: one
// process is the plain case (every call a no-op), and a c10d process group (trainers/distributed.h) is the
// other. Every rank calls the same collectives in the same order with tensors of the same shapes.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace lrb {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const { return 0; }
  virtual int world() const { return 1; }
  // Ranks on this host (they share its cores).
  virtual int local_world() const { return 1; }
  // Sums each tensor over the ranks, in place (CPU or the run's device).
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) { (void)tensors; }
  // Copies rank `root`'s tensors into every rank's, in place.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root = 0) { (void)tensors, (void)root; }
  // Waits for every rank.
  virtual void barrier() {}
  // The sum over the ranks of one integer each (flags, counts): one all-reduce.
  int64_t sum(int64_t value) {
    // host: Gloo all-reduces host tensors (trainers/distributed.cpp)
    std::vector<torch::Tensor> t{torch::full({1}, value, torch::TensorOptions().dtype(torch::kLong))};
    all_reduce_sum(t);
    return t[0].item<int64_t>();
  }
  // The c10d backend behind it ("Gloo", "NCCL"), or "" for one process.
  virtual std::string backend() const { return ""; }
  // Wall seconds spent inside collectives so far (communication and waiting for the slowest rank).
  virtual double seconds() const { return 0; }
};

// The one-process collective (stateless, so a copy per shared object would do no harm).
inline Collective& solo() {
  static Collective one;
  return one;
}

}  // namespace lrb
