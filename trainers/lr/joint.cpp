// The hook path: noise injected at every site call of one noisy pass, for all perturbed sites at once
// (no layer-wise injection, the ablation) or for one site of a model that is not a chain (a recurrent
// cell calls its sites once per time step; a graph's rows are coupled). Each row's layer inputs differ
// here, so the weight-gradient op runs on every row; each call's terms are added into the site's sums by one
// product per call (docs/PAPER.md §2.4: Σ_t z_t h_{t-1}ᵀ, accumulated over the steps). A model with
// concurrent_copies() has its chunks run in lanes on threads of their own (joint_chunks).
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "trainers/lr/engine.h"
#include "trainers/lr/engine_detail.h"

namespace lrb::lr {

using namespace detail;

namespace {
struct Call {
  torch::Tensor x, like, noise;  // the call's input rows, an empty tensor shaped like its output, first-half σ-noise
  torch::Tensor live;            // float [rows of the first half] (1: the row carries noise), or undefined: all do
  int64_t rows = 0;              // rows per copy: the batch's, or a graph's edges (see the hook)
  bool one_input = false;        // x holds one copy's rows, shared by all copies (a shared call the clean pass had not)
};

// The hook of the chunk this thread runs: model_.layer_hook dispatches to it, so that concurrent chunks of a model
// with concurrent_copies() each see their own.
thread_local const LayeredModel::Hook* t_chunk_hook = nullptr;
struct ChunkHookScope {
  explicit ChunkHookScope(const LayeredModel::Hook& h) : previous(t_chunk_hook) { t_chunk_hook = &h; }
  ~ChunkHookScope() { t_chunk_hook = previous; }
  const LayeredModel::Hook* previous;
};

// Lanes of a concurrent hook path: contiguous runs of chunks, each summed on its own and the lanes' sums added in
// lane order, so the estimate does not depend on how many threads ran them. Four keep two threads busy to the
// end when chunks take unequal times; each lane holds one set of weight-sized sums.
constexpr int64_t kLanes = 4;

// A zero-row tensor with z's trailing shape: all from_phys needs, without keeping z alive.
torch::Tensor shape_of(const torch::Tensor& z) {
  auto shape = z.sizes().vec();
  shape[0] = 0;
  return torch::empty(shape, z.options());
}
}  // namespace

void Engine::joint_chunk(std::vector<Sums>& sums, const CleanPass& c, const Chunk& k, const std::vector<bool>& active,
                         uint64_t step_key) {
  const bool anti = settings_.antithetic;
  const int64_t m = k.copies, bc = k.b1 - k.b0, R = m * bc, h = anti ? m / 2 : m, rh = h * bc;
  std::vector<std::vector<Call>> calls(layers_.size());
  // Weight noise: one draw per pass (and its antithetic mirror), used at every call of the site.
  std::vector<torch::Tensor> kernel(layers_.size()), mirrored(layers_.size());
  auto mirror = [&](const torch::Tensor& t) { return anti ? torch::cat({t, -t}) : t; };
  std::vector<size_t> ncall(layers_.size(), 0);
  const LayeredModel::Hook hook = [&](int l, const torch::Tensor& x_in, const torch::Tensor& live_in) -> torch::Tensor {
    const auto& set = settings_.layers[l];
    // Rows per copy of this call: the chunk's rows, or for a graph the clean pass's same call (a site may
    // run on other rows of the copy, e.g. GAT's attention logits: one row per edge; every such row then
    // carries its copy's loss).
    const size_t call = ncall[l]++;
    TORCH_CHECK(!c.coupled() || call < c.call_rows[l].size(), "LR engine: site ", layers_[l].name, " is called more often (",
                call + 1, ") than in the clean pass of the same graph");
    const int64_t rc = c.coupled() ? c.call_rows[l][call] : bc;
    // A shared call (call_layer_shared) gives one copy's input rows. When they are the clean pass's first
    // call's (always for the first call; a spiking net's image at every step) a logit site reuses the clean
    // output and sums the copies' noise terms before the weight-gradient op (Sums::out_grad, as layer-wise
    // injection does); a later shared call on other rows is tiled and runs as usual.
    const int64_t shared = model_.shared_copies();
    TORCH_CHECK(!shared || (shared == m && x_in.size(0) == rc), "LR engine: site ", layers_[l].name,
                "'s shared call gave ", x_in.size(0), " rows for ", shared, " copies; expected ", rc, " rows for ", m);
    bool reuse = false;
    if (shared && active[l] && set.mode == Mode::kLogit) {
      auto clean_in = bc == c.batch() ? c.trace.inputs[l] : c.trace.inputs[l].slice(0, k.b0, k.b1);
      reuse = x_in.sizes() == clean_in.sizes() && x_in.equal(clean_in);
      TORCH_CHECK(reuse || call > 0, "LR engine: site ", layers_[l].name, "'s shared call has another input than "
                  "in the clean pass (call_layer_shared needs the clean pass's input, e.g. its dropout masks)");
    }
    if (shared && !active[l]) return tile_rows(layers_[l](x_in), m);
    // A logit site's shared call with another input than the clean pass's (a spiking net's Poisson-coded image at
    // each step): one product for all copies, and the copies' noise terms summed before the weight-gradient op.
    const bool one_input = settings_.sum_shared_calls && shared && !reuse && set.mode == Mode::kLogit && !c.coupled();
    auto x = shared && !reuse && !one_input ? tile_rows(x_in, m) : x_in;
    auto live = shared && live_in.defined() ? tile_rows(live_in, m) : live_in;
    torch::Tensor z;
    if (reuse) {
      auto zc = bc == c.batch() ? c.z[l] : c.z[l].slice(0, k.b0, k.b1);
      z = m == 1 ? zc.clone() : tile_rows(zc, m);  // never a view of the clean pass: the noise is added in place
    } else if (one_input) {
      z = tile_rows(layers_[l](x), m);
    } else {
      z = layers_[l](x);
    }
    if (!active[l]) return z;
    const int64_t rows = z.size(0);
    TORCH_CHECK(rows == m * rc && (rc == bc || set.mode == Mode::kLogit), "LR engine: site ", layers_[l].name, " got ",
                rows, " rows, expected ", m * rc, " (", m, " copies x ", rc,
                " rows, copy-major: the model must tile every input with forward_copies' copies; only a graph's "
                "logit-noise sites may run on other rows than the batch's)");
    const int64_t rhc = h * rc;
    auto zp = to_phys(z);
    const int64_t S = zp.size(1), C = zp.size(2);
    auto sig = sigma_[l].to(zp.options());
    torch::Tensor noise_part;  // [R, S, C]
    if (set.mode == Mode::kLogit) {
      // Each call has its own stream: row r of copy c at call k is addressed by (layer, k, c, r), so the noise
      // a row sees depends neither on the chunk nor on the other rows (a graph's call rows are its edges).
      // Sobol points are spaced by the batch (a graph's call: its rows), never by the chunk's rows.
      const auto& src = source(layer_key(step_key, l, static_cast<int64_t>(call) + 1), S * C,
                               c.coupled() ? rc : c.batch(), z.options());
      auto e = src.rows(noise_copy(k), h, rc == bc ? k.b0 : 0, rc == bc ? k.b1 : rc, false).view({rhc, S, C}).mul_(sig);
      torch::Tensor lv;
      if (live.defined()) {
        TORCH_CHECK(live.dim() == 1 && live.size(0) == rows, "LR engine: site ", layers_[l].name, "'s live rows must be [",
                    rows, "]");
        lv = live.narrow(0, 0, rhc).to(e.options());  // antithetic halves are the same examples
        e.mul_(lv.view({rhc, 1, 1}));
      }
      calls[l].push_back({reuse ? torch::Tensor() : x, shape_of(z), e, lv, rc, one_input});
      noise_part = mirror(e);
    } else {
      auto U = unfold_rows(layers_[l], x);  // [R, P, K+1]
      const int64_t K1 = U.size(2);
      if (!kernel[l].defined()) {
        const auto& src = source(layer_key(step_key, l), K1 * C, c.batch(), z.options());
        kernel[l] = (set.weight_per_row ? src.rows(noise_copy(k), h, k.b0, k.b1, false) : src.per_copy(noise_copy(k), h))
                        .view({-1, K1, C}).mul_(sig);
        mirrored[l] = mirror(kernel[l]);
      }
      noise_part = set.weight_per_row ? rowwise_mm(U, mirrored[l])
                                      : at::bmm(U.view({m, bc * S, K1}), mirrored[l]).view({R, S, C});
    }
    return from_phys(zp.add_(noise_part), z);
  };
  torch::Tensor logits;
  {
  ChunkHookScope scope(hook);
  if (model_.reuses_prefix()) {  // start at the first perturbed site, from the clean prefix
    int first = 0;
    while (!active[first]) ++first;
    auto tr = bc == c.batch() ? c.trace : slice_trace(c.trace, k.b0, k.b1);
    auto live = c.live[first].defined() ? tile_rows(c.live[first].slice(0, k.b0, k.b1), m) : torch::Tensor();
    auto z = hook(first, tile_rows(tr.inputs[first], m), live);
    logits = model_.forward_from(first, z, tr, m);
  } else {
    auto b = c.input;
    if (bc != c.batch())
      b = c.input.rows(torch::arange(k.b0, k.b1, torch::TensorOptions().dtype(torch::kLong).device(c.y.device())));
    logits = model_.forward_copies(b, m);
  }
  }
  auto w = copy_losses(c, logits, m, k.b0, k.b1).view({R});
  auto lo = w.narrow(0, 0, rh), hi = anti ? w.narrow(0, rh, rh) : w;
  auto col = [&](const torch::Tensor& v) { return v.view({-1, 1, 1}); };
  // Coefficients per batch row ([copies * bc]) onto a call's rows ([copies * rc]): rows of a coupled copy
  // all carry that copy's loss, so the first row's value serves every row.
  auto onto = [&](const torch::Tensor& v, int64_t rc) {
    return rc == bc ? v : v.view({-1, bc}).select(1, 0).repeat_interleave(rc);
  };
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (!active[l]) continue;
    const auto& set = settings_.layers[l];
    auto& s = sums[l];
    auto sig2 = sigma_[l].to(w.options()).square();
    TORCH_CHECK(!calls[l].empty() || kernel[l].defined(), "LR engine: site ", layers_[l].name,
                " was not called by the noisy pass");
    torch::Tensor sv;  // σ-gradient coefficient of each noise row
    if (set.mode == Mode::kLogit) {
      // Rows see different inputs here, so both halves enter the weight-gradient op separately, one call at a
      // time (stacking every call's rows into one product cost a copy of them all per chunk, more than the product).
      for (const auto& call : calls[l]) {
        const auto& E = call.noise;
        auto g = anti ? torch::cat({E * col(onto(lo, call.rows)), E * col(-onto(hi, call.rows))})
                      : E * col(onto(w, call.rows));
        if (!call.x.defined()) {  // a reused shared call: the copies' terms meet one input
          if (!s.out_grad.defined()) s.out_grad = torch::zeros({c.batch(), g.size(1), g.size(2)}, g.options());
          s.out_grad.slice(0, k.b0, k.b1).add_(g.view({m, bc, g.size(1), g.size(2)}).sum(0));
          continue;
        }
        if (call.one_input) g = g.view({m, call.rows, g.size(1), g.size(2)}).sum(0);
        add_weight_grad(layers_[l], from_phys(g, call.like).contiguous(), call.x, s.w, s.b);
      }
      sv = anti ? lo + hi : w;
      if (settings_.sigma_grad)
        for (const auto& call : calls[l]) {
          auto svc = onto(sv, call.rows);
          auto noisy = call.live.defined() ? (svc * call.live).sum() : svc.sum();  // Σ(ε² − 1) over noisy rows only
          s.s.add_((call.noise.square() * col(svc)).sum(at::IntArrayRef{0, 1}).div(sig2).sub_(noisy * call.noise.size(1)));
        }
    } else {
      const auto& E = kernel[l];
      const int64_t D = E.size(1);
      if (set.weight_per_row) {
        s.kc.add_((E * col(anti ? lo - hi : w)).sum(0));
        sv = anti ? lo + hi : w;
      } else {
        auto per_copy = w.view({m, bc}).sum(1).div_(static_cast<double>(c.unit_rows()));
        auto a = anti ? per_copy.narrow(0, 0, h) - per_copy.narrow(0, h, h) : per_copy;
        s.kc.add_((E * col(a)).sum(0));
        sv = anti ? per_copy.narrow(0, 0, h) + per_copy.narrow(0, h, h) : per_copy;
      }
      if (settings_.sigma_grad) s.s.add_((E.square() * col(sv)).sum(at::IntArrayRef{0, 1}).div(sig2).sub_(sv.sum() * D));
    }
  }
}

const NoiseSource& Engine::source(uint64_t key, int64_t dim, int64_t rows_per_copy, const torch::TensorOptions& opts) {
  std::lock_guard<std::mutex> lock(sources_mutex_);
  auto it = sources_.find(key);
  if (it == sources_.end()) it = sources_.try_emplace(key, settings_.source, dim, key, rows_per_copy, opts).first;
  TORCH_CHECK(it->second.dim() == dim, "LR engine: a site changed its output size between calls");
  return it->second;
}

std::vector<std::vector<LayerGrad>> Engine::joint(const CleanPass& c, const std::vector<int64_t>& copies_at,
                                                  at::Generator& gen) {
  return joint(c, copies_at, draw_key(gen));
}

std::vector<std::vector<LayerGrad>> Engine::joint(const CleanPass& c, const std::vector<int64_t>& copies_at,
                                                  uint64_t step_key) {
  std::vector<bool> active(layers_.size());
  bool any = false;
  for (size_t l = 0; l < layers_.size(); ++l) any |= (active[l] = settings_.layers[l].mode != Mode::kNone);
  TORCH_CHECK(any, "LR engine: every layer has noise mode none");
  return hooked(c, active, copies_at, step_key);
}

void Engine::joint_chunks(std::vector<Sums>& sums, const CleanPass& c, const std::vector<Chunk>& chunks,
                          const std::vector<bool>& active, uint64_t step_key) {
  const int64_t n = static_cast<int64_t>(chunks.size()), lanes = std::min(kLanes, n);
  // On a GPU the kernels of one stream run in order whichever thread launches them: nothing to gain there.
  if (!model_.concurrent_copies() || lanes < 2 || !c.loss.device().is_cpu()) {
    for (const auto& k : chunks) joint_chunk(sums, c, k, active, step_key);
    return;
  }
  auto zeros = [](const torch::Tensor& t) { return t.defined() ? torch::zeros_like(t) : torch::Tensor(); };
  std::vector<std::vector<Sums>> lane(lanes);
  for (auto& ls : lane)
    for (const auto& s : sums) ls.push_back({zeros(s.out_grad), zeros(s.w), zeros(s.b), zeros(s.kc), zeros(s.s)});
  run_tasks_on_threads(lanes, at::get_num_threads(), [&](int64_t i) {
    for (int64_t j = i * n / lanes; j < (i + 1) * n / lanes; ++j) joint_chunk(lane[i], c, chunks[j], active, step_key);
  });
  auto add = [](torch::Tensor& to, const torch::Tensor& from) {
    if (!from.defined()) return;
    if (to.defined()) to.add_(from);
    else to = from;
  };
  for (const auto& ls : lane)
    for (size_t l = 0; l < sums.size(); ++l) {
      add(sums[l].out_grad, ls[l].out_grad), add(sums[l].w, ls[l].w), add(sums[l].b, ls[l].b);
      add(sums[l].kc, ls[l].kc), add(sums[l].s, ls[l].s);
    }
}

std::vector<std::vector<LayerGrad>> Engine::hooked(const CleanPass& c, const std::vector<bool>& active,
                                                   const std::vector<int64_t>& copies_at, uint64_t step_key) {
  torch::NoGradGuard no_grad;
  const auto opts = c.loss.options();
  sources_.clear();
  std::vector<Sums> sums(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (!active[l]) continue;
    const auto& set = settings_.layers[l];
    const int64_t C = c.z[l].size(1);
    int64_t dim = c.z[l][0].numel();
    if (set.mode == Mode::kWeight) dim = (layers_[l].weight()[0].numel() + (layers_[l].bias().defined() ? 1 : 0)) * C;
    auto& s = sums[l];
    if (set.mode == Mode::kLogit) {
      s.w = torch::zeros_like(layers_[l].weight());
      if (layers_[l].bias().defined()) s.b = torch::zeros_like(layers_[l].bias());
    } else {
      s.kc = torch::zeros({dim / C, C}, opts);
    }
    if (settings_.sigma_grad) s.s = torch::zeros({C}, opts);
  }
  // A pass keeps every call's input and noise; weight-noise sites also unfold every row's input, and
  // their kernels count per row or per copy.
  int64_t bytes = std::max(row_bytes(c, 0), c.call_bytes), copy_bytes = 0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (!active[l] || settings_.layers[l].mode != Mode::kWeight) continue;
    const int64_t kernel = sums[l].kc.numel() * static_cast<int64_t>(sizeof(float));
    (settings_.layers[l].weight_per_row ? bytes : copy_bytes) += kernel;
    bytes += kernel / c.z[l].size(1) * (c.z[l][0].numel() / c.z[l].size(1));  // unfolded input: (K+1) x positions
  }
  // Every site call reaches the hook of the chunk its thread runs.
  model_.layer_hook = [](int l, const torch::Tensor& x, const torch::Tensor& live) {
    TORCH_CHECK(t_chunk_hook, "LR engine: a site was called outside the hooked pass's chunks (from another thread?)");
    return (*t_chunk_hook)(l, x, live);
  };
  HookGuard guard{model_};
  std::vector<std::vector<LayerGrad>> out;
  int64_t done = 0;
  for (int64_t target : copies_at) {
    target = round_copies(target);
    TORCH_CHECK(target >= done, "LR engine: copies_at must be increasing (got ", target, " after ", done, ")");
    const auto [from, to] = my_share(done, target);
    joint_chunks(sums, c, plan_chunks(from, to, c.batch(), bytes, copy_bytes, c.coupled(), kHookChunkBytes), active,
                 step_key);
    done = target;
    std::vector<LayerGrad> grads(layers_.size());
    for (size_t l = 0; l < layers_.size(); ++l)
      if (active[l]) grads[l] = finalize(sums[l], static_cast<int>(l), c, target);
    out.push_back(std::move(grads));
  }
  return out;
}

}  // namespace lrb::lr
