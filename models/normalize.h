// Per-channel input normalisation held as buffers, so attacks work in [0,1] pixel space and
// checkpoints carry the statistics the model was trained with.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace lrb {

inline void register_normalization(torch::nn::Module& m, const std::vector<double>& mean,
                                   const std::vector<double>& std, torch::Tensor& mean_buf, torch::Tensor& std_buf) {
  if (mean.empty()) return;
  auto shape = std::vector<int64_t>{1, static_cast<int64_t>(mean.size()), 1, 1};
  // host: module buffers, created with the module and moved by Module::to
  mean_buf = m.register_buffer("input_mean", torch::tensor(mean, torch::kFloat).view(shape));
  std_buf = m.register_buffer("input_std", torch::tensor(std, torch::kFloat).view(shape));
}

inline torch::Tensor normalize(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& std) {
  return mean.defined() ? (x - mean) / std : x;
}

}  // namespace lrb
