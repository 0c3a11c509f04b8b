// Small smooth LayeredModels for the LR tests: a tanh MLP 8->16->3 and a conv net
// (conv 2->3, 3x3, pad 1, on 5x5 inputs, tanh) -> linear 75->3.
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <mutex>
#include <set>
#include <thread>

#include "core/batch.h"
#include "models/layered.h"

namespace lrb::test {

// Whether a tiny model offers concurrent_copies() (as the library's image chains and recurrent nets do), and the
// threads its noisy passes ran on.
struct NoisyPassThreads {
  bool concurrent = false;
  std::set<std::thread::id> threads;
  std::mutex mutex;
  void seen() {
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(std::this_thread::get_id());
  }
};

class TinyMlp : public torch::nn::Module, public LayeredModel, public NoisyPassThreads {
 public:
  TinyMlp() {
    fc0 = register_module("fc0", torch::nn::Linear(8, 16));
    fc1 = register_module("fc1", torch::nn::Linear(16, 3));
  }
  std::vector<PerturbableLayer> layers() override { return {{"fc0", fc0, nullptr}, {"fc1", fc1, nullptr}}; }
  bool reuses_prefix() const override { return true; }
  ForwardTrace trace(const Batch& b) override {
    ForwardTrace t;
    t.inputs = {b.x, torch::tanh(fc0(b.x))};
    t.logits = fc1(t.inputs[1]);
    return t;
  }
  bool concurrent_copies() const override { return concurrent; }
  torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace&, int64_t) override {
    seen();
    return l == 0 ? call_layer(1, fc1, torch::tanh(z)) : z;
  }
  torch::nn::Linear fc0{nullptr}, fc1{nullptr};
};

class TinyConv : public torch::nn::Module, public LayeredModel, public NoisyPassThreads {
 public:
  TinyConv() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(75, 3));
  }
  std::vector<PerturbableLayer> layers() override { return {{"conv", nullptr, conv}, {"fc", fc, nullptr}}; }
  bool reuses_prefix() const override { return true; }
  ForwardTrace trace(const Batch& b) override {
    ForwardTrace t;
    t.inputs = {b.x, torch::tanh(conv(b.x)).flatten(1)};
    t.logits = fc(t.inputs[1]);
    return t;
  }
  bool concurrent_copies() const override { return concurrent; }
  torch::Tensor forward_from(int l, const torch::Tensor& z, const ForwardTrace&, int64_t) override {
    seen();
    return l == 0 ? call_layer(1, fc, torch::tanh(z).flatten(1)) : z;
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
};

// A fixed batch for the tiny models.
inline Batch tiny_batch(const std::vector<int64_t>& shape, int64_t n, int64_t classes, uint64_t seed,
                        torch::Dtype dtype = torch::kDouble) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<int64_t> full{n};
  full.insert(full.end(), shape.begin(), shape.end());
  Batch b;
  b.x = at::randn(full, gen, torch::TensorOptions().dtype(dtype));
  b.y = at::randint(classes, {n}, gen, torch::TensorOptions().dtype(torch::kLong));
  return b;
}

// Exact gradient of the batch-mean clean loss (autograd: the reference only).
inline std::vector<torch::Tensor> exact_grads(torch::nn::Module& m, LayeredModel& lm, const Batch& b) {
  for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
  auto loss = torch::nn::functional::cross_entropy(lm.trace(b).logits, b.y);
  loss.backward();
  std::vector<torch::Tensor> out;
  for (const auto& l : lm.layers()) out.push_back(torch::cat({l.weight().grad().flatten(), l.bias().grad().flatten()}));
  for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
  return out;
}

}  // namespace lrb::test
