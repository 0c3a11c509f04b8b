// gcn: Kipf & Welling (ICLR 2017), two graph-convolution layers on the whole graph:
//   logits = Â · drop(relu(Â · drop(X) · W0 + b0)) · W1 + b1,   Â = D^-1/2 (A+I) D^-1/2 (core/graph.h), sparse.
// Each layer aggregates first and then transforms ((Â h) W = Â (h W)), so a site's pre-activation is the
// aggregated one and the LR engine's logit noise lands where the paper puts it: Â·h·θ + z (docs/PAPER.md §2.5).
// The bias is added after the aggregation, as PyG's GCNConv and Kipf's code do.
// Defaults (the original's): hidden 16, dropout 0.5 on the input of each layer, Glorot weights, zero biases.
// Dropout in training mode draws its masks in the clean pass (trace, which forward also runs) and every
// later noisy pass of the same batch (forward_from, forward_copies) reuses them: the LR engine's copies then
// differ from the clean pass only by their noise (common random numbers), so the estimate is unbiased for
// the gradient under that step's masks, and fresh masks each step average over dropout as BP does.
// Rows are nodes; a copy-major pass of m copies aggregates within each copy (one sparse product for all).
#include <torch/torch.h>

#include <optional>

#include "core/registry.h"
#include "models/chain.h"
#include "models/classifier.h"

namespace lrb {

struct GcnOptions {
  int64_t hidden = 16;
  double dropout = 0.5;
  static GcnOptions from(const Config& c) {
    GcnOptions o;
    c.has("name");
    c.read("hidden", o.hidden, Range::between(1, 1 << 16));
    c.read("dropout", o.dropout, Range{0.0, 1.0});
    return o;
  }
};

namespace {
// Â x for copy-major rows [m*N, F]: the copies side by side as columns, one sparse product.
torch::Tensor aggregate_copies(const Flow& f, const torch::Tensor& x) {
  const auto& A = f.batch().adj;
  TORCH_CHECK(A.defined() && A.dim() == 2, "gcn: the batch has no adjacency (a graph dataset such as cora)");
  const int64_t m = f.copies(), N = A.size(0), F = x.size(1);
  TORCH_CHECK(x.size(0) == m * N, "gcn: ", x.size(0), " rows for ", m, " copies of ", N, " nodes");
  if (m == 1) return torch::mm(A, x);
  auto y = x.view({m, N, F}).permute({1, 0, 2}).reshape({N, m * F});
  return torch::mm(A, y).view({N, m, F}).permute({1, 0, 2}).reshape({m * N, F});
}
}  // namespace

class GcnImpl : public ClassifierImpl, public ChainModel {
 public:
  GcnImpl(const GcnOptions& o, const ModelContext& ctx) : o_(o) {
    TORCH_CHECK(ctx.input.shape.size() == 1, "gcn expects node features [N, F] (a graph dataset such as cora)");
    l0_ = register_module("l0", torch::nn::Linear(ctx.input.shape[0], o.hidden));
    l1_ = register_module("l1", torch::nn::Linear(o.hidden, ctx.num_classes));
    // Glorot-uniform weights and zero biases, as the original (and PyG's GCNConv).
    torch::NoGradGuard no_grad;
    for (auto* l : {&l0_, &l1_}) {
      torch::nn::init::xavier_uniform_((*l)->weight);
      (*l)->bias.zero_();
    }
    add_site({"l0", l0_, nullptr}, [this](const torch::Tensor& x, const Flow& f) { return aggregate_copies(f, drop(x, 0, f)); });
    add_site({"l1", l1_, nullptr},
             [this](const torch::Tensor& z, const Flow& f) { return aggregate_copies(f, drop(torch::relu(z), 1, f)); });
    Batch probe;
    probe.modality = Modality::kGraph;
    // host: a shape probe at construction, when the module is still on the host
    probe.x = torch::zeros({1, ctx.input.shape[0]});
    probe.adj = torch::eye(1).to_sparse();
    drawing_ = true;  // the probe pass is a clean pass of its own one-node graph
    finish_chain(probe);
    drawing_ = false;
    masks_[0] = masks_[1] = torch::Tensor();
  }

  torch::Tensor forward(const Batch& b) override { return trace(b).logits; }
  ForwardTrace trace(const Batch& b) override {
    drawing_ = is_training() && o_.dropout > 0;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{drawing_};
    return ChainModel::trace(b);
  }
  std::string key() const override { return "gcn"; }
  Modality modality() const override { return Modality::kGraph; }
  // The last site's rows reach the loss where the batch's mask is set; each aggregation after a site widens
  // that to the neighbours (Â is symmetric): for Cora's 140 training nodes, 140 of 2,708 rows for l1 and
  // their neighbourhood for l0, so most noise would otherwise be drawn where it cannot move the loss.
  torch::Tensor live_rows(int l, const Batch& b) const override {
    if (!b.mask.defined() || !b.adj.defined() || b.mask.all().item<bool>()) return {};
    auto live = b.mask.to(b.adj.options().layout(torch::kStrided));
    for (int k = 1; k > l; --k) live = torch::mm(b.adj, live.unsqueeze(1)).squeeze(1).gt(0).to(live.options());
    return live.gt(0);
  }
  // Logit noise on both aggregated pre-activations (σ0 0.1), 400 copies per layer: one full-batch step per
  // epoch makes the estimate's variance the limit (measured on Cora, dropout 0, 200 epochs, layer-wise:
  // 50 copies 61.1 % test accuracy, 400 copies 82.6 %, in about 2 minutes on 2 CPU cores).
  std::optional<LrPreset> lr_preset(const std::string&) const override {
    return LrPreset{{"logit", "logit"}, {400, 400}, {0.1, 0.1}};
  }

 private:
  // Inverted dropout on site k's input [m*N, F] with one [N, F] mask shared by the m copies.
  torch::Tensor drop(const torch::Tensor& x, int k, const Flow& f) {
    if (!is_training() || o_.dropout == 0) return x;
    const int64_t N = f.batch().x.size(0), F = x.size(1), m = f.copies();
    if (drawing_) masks_[k] = torch::empty({N, F}, x.options()).bernoulli_(1 - o_.dropout).div_(1 - o_.dropout);
    TORCH_CHECK(masks_[k].defined() && masks_[k].size(0) == N && masks_[k].size(1) == F,
                "gcn: in training mode a noisy pass reuses the dropout masks of the clean pass of the same graph; "
                "run trace() (or forward) on it first");
    return m == 1 ? x * masks_[k] : (x.view({m, N, F}) * masks_[k]).view({m * N, F});
  }
  GcnOptions o_;
  bool drawing_ = false;
  torch::Tensor masks_[2];
  torch::nn::Linear l0_{nullptr}, l1_{nullptr};
};
TORCH_MODULE(Gcn);

LRB_REGISTER(ClassifierImpl, "gcn", "GCN (Kipf & Welling): 2 graph convolutions on the normalised adjacency (hidden, dropout)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<GcnImpl>(GcnOptions::from(c), ctx);
             });

}  // namespace lrb
