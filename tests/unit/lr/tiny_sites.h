// Tiny models for the LR engine's general sites: a recurrent cell whose two sites are called once per
// time step (not a chain: only forward_copies), and a two-layer graph convolution whose node rows are
// coupled through the adjacency (a ChainModel whose glue aggregates per copy).
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/batch.h"
#include "models/chain.h"
#include "models/layered.h"
#include "tests/unit/lr/tiny_models.h"

namespace lrb::test {

// Elman cell on token ids: h_t = tanh(W_ih e(x_t) + b_ih + W_hh h_{t-1}); logits = W_out h_{len} + b_out.
class TinyRnn : public torch::nn::Module, public LayeredModel, public NoisyPassThreads {
 public:
  TinyRnn() {
    emb = register_module("emb", torch::nn::Embedding(6, 4));
    ih = register_module("ih", torch::nn::Linear(4, 5));
    hh = register_module("hh", torch::nn::Linear(torch::nn::LinearOptions(5, 5).bias(false)));
    out = register_module("out", torch::nn::Linear(5, 3));
  }
  std::vector<PerturbableLayer> layers() override { return {{"ih", ih, nullptr}, {"hh", hh, nullptr}, {"out", out, nullptr}}; }
  bool reuses_prefix() const override { return false; }
  bool concurrent_copies() const override { return concurrent; }
  torch::Tensor forward_copies(const Batch& b, int64_t copies) override {
    if (copies > 1) seen();  // a noisy pass (the clean one has one copy)
    auto e = emb(tile_rows(b.x, copies));  // [R, T, 4]
    auto len = tile_rows(b.lengths, copies);
    auto h = torch::zeros({e.size(0), 5}, e.options());
    auto last = h;
    for (int64_t t = 0; t < e.size(1); ++t) {
      h = torch::tanh(call_layer(0, ih, e.select(1, t)) + call_layer(1, hh, h));
      last = torch::where(len.eq(t + 1).unsqueeze(1), h, last);  // the state after each sequence's last token
    }
    return call_layer(2, out, last);
  }
  torch::nn::Embedding emb{nullptr};
  torch::nn::Linear ih{nullptr}, hh{nullptr}, out{nullptr};
};

inline Batch tiny_text(int64_t n, int64_t steps, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto lng = torch::TensorOptions().dtype(torch::kLong);
  Batch b;
  b.modality = Modality::kText;
  b.x = at::randint(1, 6, {n, steps}, gen, lng);
  b.lengths = at::randint(1, steps + 1, {n}, gen, lng);
  b.y = at::randint(3, {n}, gen, lng);
  return b;
}

// Â x per copy for copy-major rows [copies*N, F]: one sparse product for all copies.
inline torch::Tensor aggregate(const Flow& f, const torch::Tensor& x) {
  const auto& A = f.batch().adj;
  const int64_t m = f.copies(), N = A.size(0), F = x.size(1);
  auto y = x.reshape({m, N, F}).permute({1, 0, 2}).reshape({N, m * F});
  return torch::mm(A, y).view({N, m, F}).permute({1, 0, 2}).reshape({m * N, F});
}

// GCN: logits = Â tanh(Â X W0 + b0) W1 + b1 (noise on the aggregated pre-activations).
class TinyGcn : public torch::nn::Module, public ChainModel {
 public:
  TinyGcn() {
    l0 = register_module("l0", torch::nn::Linear(4, 6));
    l1 = register_module("l1", torch::nn::Linear(6, 3));
    add_site({"l0", l0, nullptr}, [](const torch::Tensor& x, const Flow& f) { return aggregate(f, x); });
    add_site({"l1", l1, nullptr}, [](const torch::Tensor& z, const Flow& f) { return aggregate(f, torch::tanh(z)); });
    Batch probe;
    probe.modality = Modality::kGraph;
    probe.x = torch::zeros({1, 4});
    probe.adj = torch::eye(1).to_sparse();
    finish_chain(probe);
  }
  torch::nn::Linear l0{nullptr}, l1{nullptr};
};

// A 7-node graph (ring plus two chords, self-loops, symmetric normalisation), 4 of its nodes masked in.
inline Batch tiny_graph(uint64_t seed, torch::Dtype dtype = torch::kDouble) {
  const int64_t N = 7;
  auto A = torch::eye(N, torch::TensorOptions().dtype(dtype));
  for (int64_t i = 0; i < N; ++i) A[i][(i + 1) % N] = 1, A[(i + 1) % N][i] = 1;
  A[0][3] = A[3][0] = A[2][5] = A[5][2] = 1;
  auto d = A.sum(1).rsqrt();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Batch b;
  b.modality = Modality::kGraph;
  b.adj = (d.unsqueeze(1) * A * d.unsqueeze(0)).to_sparse();
  b.x = at::randn({N, 4}, gen, torch::TensorOptions().dtype(dtype));
  b.y = at::randint(3, {N}, gen, torch::TensorOptions().dtype(torch::kLong));
  b.mask = torch::tensor({1, 0, 1, 1, 0, 0, 1}, torch::kBool);
  return b;
}

}  // namespace lrb::test
