// gat: Veličković et al. (ICLR 2018), two graph-attention layers on the whole graph, as PyG's GATConv:
//   v = drop(h) W + b,  s_ij^k = a_k · [v_i^k ‖ v_j^k],  α_ij^k = softmax_{j ∈ N(i) ∪ {i}} LeakyReLU_0.2(s_ij^k),
//   out_i^k = Σ_j drop(α_ij^k) v_j^k;  heads concatenated (layer 1, then ELU) or averaged (the output layer).
// Attention runs over the edge list of the normalised adjacency's pattern (A + I, both directions: rebuilt
// by a graph attack, so the perturbed graph is what attends), never a dense N×N matrix.
// The bias sits in the projection W (so the attention sees it), where PyG's GATConv adds it after the
// aggregation: LR estimates a parameter only inside a perturbed site, and a bias outside W would be one
// more site of its own. Same parameter count; the bias's share of the output is the same (each node's α sum
// to 1), only the attention logits move with it.
// LR sites (docs/PAPER.md §2.5, the paper's single-head formulas per head): the projections W (noise on the
// projected features v) and, per head, the attention vector a_k as a Linear(2F', 1) on the edge rows
// [v_i ‖ v_j] (noise on the raw attention logit s_ij before the LeakyReLU, i.e. on the pre-activation as
// everywhere in the suite). Edge rows are copy-major like node rows; the engine gives each its copy's loss.
// Defaults (the original's Cora setting): 8 heads × 8 hidden, 1 output head, dropout 0.6 on every layer's
// input and on α, Glorot weights, zero biases. Dropout draws its masks in the clean pass (forward) and the
// LR engine's noisy passes (forward_copies) reuse them, as gcn does.
#include <torch/torch.h>

#include <optional>

#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"

namespace lrb {

struct GatOptions {
  int64_t heads = 8, hidden = 8, out_heads = 1;
  double dropout = 0.6, negative_slope = 0.2;
  static GatOptions from(const Config& c) {
    GatOptions o;
    c.has("name");
    c.read("heads", o.heads, Range::between(1, 64));
    c.read("hidden", o.hidden, Range::between(1, 1 << 12));
    c.read("out_heads", o.out_heads, Range::between(1, 64));
    c.read("dropout", o.dropout, Range{0.0, 1.0});
    c.read("negative_slope", o.negative_slope, Range{0.0, 1.0});
    return o;
  }
};

class GatImpl : public ClassifierImpl, public LayeredModel {
  struct Layer {
    torch::nn::Linear w{nullptr};
    std::vector<torch::nn::Linear> att;  // one a_k per head
    int site = 0;                        // w's site; the heads' follow
    int64_t heads = 1, width = 1;
    bool concat = true;
  };

 public:
  GatImpl(const GatOptions& o, const ModelContext& ctx) : o_(o) {
    TORCH_CHECK(ctx.input.shape.size() == 1, "gat expects node features [N, F] (a graph dataset such as cora)");
    add_layer(l0_, "l0", ctx.input.shape[0], o.heads, o.hidden, true);
    add_layer(l1_, "l1", o.heads * o.hidden, o.out_heads, ctx.num_classes, false);
  }

  torch::Tensor forward(const Batch& b) override {
    drawing_ = is_training() && o_.dropout > 0;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{drawing_};
    return forward_copies(b, 1);
  }
  torch::Tensor clean_forward(const Batch& b) override { return forward(b); }
  std::string key() const override { return "gat"; }
  Modality modality() const override { return Modality::kGraph; }
  std::vector<PerturbableLayer> layers() override { return sites_; }

  torch::Tensor forward_copies(const Batch& b, int64_t m) override {
    TORCH_CHECK(b.adj.defined() && b.adj.dim() == 2 && b.x.dim() == 2, "gat: needs a graph batch (node features [N, F] "
                "and its adjacency; a graph dataset such as cora)");
    const int64_t N = b.x.size(0);
    auto ij = (b.adj.is_sparse() ? b.adj.coalesce().indices() : b.adj.nonzero().t()).to(torch::kLong);
    const int64_t E = ij.size(1);
    auto offs = torch::arange(m, ij.options()).mul_(N).repeat_interleave(E);
    // Â's pattern (coalesced, or a dense matrix's nonzeros) lists the edges sorted by dst, every node with its
    // self-loop, so each node's incoming edges form one non-empty segment.
    auto degree = torch::bincount(ij[0], {}, N);
    TORCH_CHECK(degree.gt(0).all().item<bool>(), "gat: a node has no incoming edge; the adjacency must include the "
                "self-loops (A + I), as core/graph.h's normalized_adjacency builds it");
    degree = degree.repeat({m});
    Edges e{ij[0].repeat({m}) + offs, ij[1].repeat({m}) + offs, degree, m, N, E};
    auto live = reach(b, ij);
    // The input (after its dropout) is the same for every copy: one projection serves them all.
    auto v = call_layer_shared(l0_.site, l0_.w, drop(b.x, 0, N, 1), m, live[0]);
    auto h = drop(torch::elu(attend(l0_, v, e, 1, live[1])), 2, N, m);
    return attend(l1_, call_layer(l1_.site, l1_.w, h, tile(live[2], m)), e, 3, live[3]);
  }

  // Logit noise everywhere (σ0 0.01), 200 copies, meant for joint injection (trainer.layerwise: false), as
  // table 3 runs it: gat is not a chain, so layer-wise injection costs one whole noisy pass per site (11 with
  // the defaults). Measured on Cora (dropout 0, Adam 0.01, 200 epochs, joint, 2 CPU cores): σ0 0.1 with 100
  // copies 69.2 % test accuracy, with 200 copies 70.2 %; σ0 0.01 with 200 copies 75.0 % (about 7 min). The
  // projected features start near 0.01 (row-normalised bag of words through Glorot weights), so σ0 0.1
  // buried them in noise.
  std::optional<LrPreset> lr_preset(const std::string&) const override {
    const size_t n = sites_.size();
    return LrPreset{std::vector<std::string>(n, "logit"), std::vector<int64_t>(n, 200), std::vector<double>(n, 0.01)};
  }

 private:
  struct Edges {
    torch::Tensor dst, src;  // copy-major [m*E]: edge (dst, src) makes dst attend to src
    torch::Tensor degree;    // [m*N] incoming edges per node
    int64_t m, N, E;
  };

  void add_layer(Layer& L, const std::string& name, int64_t in, int64_t heads, int64_t width, bool concat) {
    L.heads = heads, L.width = width, L.concat = concat, L.site = static_cast<int>(sites_.size());
    L.w = register_module(name, torch::nn::Linear(in, heads * width));
    torch::NoGradGuard no_grad;
    torch::nn::init::xavier_uniform_(L.w->weight);
    L.w->bias.zero_();
    sites_.push_back({name, L.w, nullptr});
    for (int64_t k = 0; k < heads; ++k) {
      auto a = register_module(name + "_att" + std::to_string(k),
                               torch::nn::Linear(torch::nn::LinearOptions(2 * width, 1).bias(false)));
      torch::nn::init::xavier_uniform_(a->weight);
      L.att.push_back(a);
      sites_.push_back({name + ".att" + std::to_string(k), a, nullptr});
    }
  }

  // One attention layer on the projected copy-major node rows [m*N, H*F]; `live_edges` is one copy's.
  torch::Tensor attend(Layer& L, const torch::Tensor& projected, const Edges& e, int slot, const torch::Tensor& live_edges) {
    const int64_t H = L.heads, F = L.width, mN = e.m * e.N;
    auto v = projected.view({mN, H, F});
    auto vj = v.index_select(0, e.src);
    auto rows = torch::cat({v.index_select(0, e.dst), vj}, 2);  // [m*E, H, 2F]: [v_i ‖ v_j] per head
    std::vector<torch::Tensor> s;
    for (int64_t k = 0; k < H; ++k)
      s.push_back(call_layer(L.site + 1 + static_cast<int>(k), L.att[k], rows.select(1, k).contiguous(), tile(live_edges, e.m)));
    auto score = torch::leaky_relu(torch::cat(s, 1), o_.negative_slope);  // [m*E, H]
    // Softmax over each node's incoming edges (a segment each: the edges are sorted by dst); the shift by the
    // segment's max only guards exp and cancels exactly.
    auto mx = at::segment_reduce(score.detach(), "max", e.degree);
    auto ex = (score - mx.index_select(0, e.dst)).exp();
    auto alpha = ex / torch::zeros({mN, H}, ex.options()).index_add(0, e.dst, ex).index_select(0, e.dst);
    alpha = drop(alpha, slot, e.E, e.m);
    auto out = torch::zeros({mN, H, F}, v.options()).index_add(0, e.dst, alpha.unsqueeze(2) * vj);
    return L.concat ? out.view({mN, H * F}) : out.mean(1);
  }

  // Rows that can move the loss (as gcn): with n0 the counted nodes (the mask), e_k the edges into n_k and
  // n_{k+1} = n_k plus the sources of e_k, the output layer's projection reaches it from n1 and its attention
  // from e0, layer 0's from n2 and e1. Returned as {n2, e1, n1, e0}; all undefined when every node counts.
  std::vector<torch::Tensor> reach(const Batch& b, const torch::Tensor& ij) const {
    if (!b.mask.defined() || b.mask.all().item<bool>()) return std::vector<torch::Tensor>(4);
    auto into = [&](const torch::Tensor& n) { return n.index_select(0, ij[0]); };
    auto spread = [&](const torch::Tensor& n) { return n.clone().index_fill_(0, ij[1].masked_select(into(n)), true); };
    auto n0 = b.mask.to(torch::kBool), n1 = spread(n0);
    return {spread(n1), into(n1), n1, into(n0)};
  }

  static torch::Tensor tile(const torch::Tensor& t, int64_t m) { return t.defined() ? tile_rows(t, m) : t; }

  // Inverted dropout on copy-major rows [m*n, ...] with one mask per slot shared by the copies.
  torch::Tensor drop(const torch::Tensor& x, int slot, int64_t n, int64_t m) {
    if (!is_training() || o_.dropout == 0) return x;
    auto shape = x.sizes().vec();
    shape[0] = n;
    if (drawing_) masks_[slot] = torch::empty(shape, x.options()).bernoulli_(1 - o_.dropout).div_(1 - o_.dropout);
    TORCH_CHECK(masks_[slot].defined() && masks_[slot].sizes() == c10::IntArrayRef(shape),
                "gat: in training mode a noisy pass reuses the dropout masks of the clean pass of the same graph; "
                "run forward on it first");
    shape.insert(shape.begin(), m);
    shape[1] = n;
    return (x.reshape(shape) * masks_[slot]).view(x.sizes());
  }

  GatOptions o_;
  Layer l0_, l1_;
  std::vector<PerturbableLayer> sites_;
  bool drawing_ = false;
  torch::Tensor masks_[4];          // input, α of layer 0, hidden, α of layer 1
};
TORCH_MODULE(Gat);

LRB_REGISTER(ClassifierImpl, "gat",
             "GAT (Veličković et al.): 2 graph-attention layers over the edge list (heads, hidden, out_heads, dropout); "
             "not a chain: train LR with trainer.layerwise=false",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<GatImpl>(GatOptions::from(c), ctx);
             });

}  // namespace lrb
