// Layer-wise injection (the default): the clean prefix is computed once per batch (CleanPass); each
// perturbed layer then runs only its suffix, for all its copies, in cache-sized chunks of rows.
#include "trainers/lr/engine.h"

#include "core/counter_normal.h"
#include "core/runtime.h"
#include "core/seed.h"

#include <torch/torch.h>

#include <malloc.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <condition_variable>
#include <mutex>

#include "trainers/lr/engine_detail.h"

namespace lrb::lr {

using namespace detail;

namespace {
// Layer-wise injection: the widest activation of a chunk spans core/runtime.h's cache_block_bytes(). On 2
// cores the suffix ran fastest with chunks of 4-8 MB (AMD EPYC, 1 MB L2 per core: the paper-copies ResNet-5
// step 3.1 s at 24 MB, 2.3-2.5 s at 4-8 MB), and oneDNN convolutions on 100+ MB activations ran 3-4x slower
// than on ~8 MB ones.
const int64_t kChunkBytes = cache_block_bytes();

}  // namespace

struct Engine::LayerRun {
  const CleanPass& c;
  int l;
  torch::Tensor zp, U, sig;  // clean pre-activation [B,S,C]; unfolded input [B,P,K1] or (cols) [B,K,P]; σ [C]
  bool cols;                  // U from unfold_cols (a convolution's per-row weight noise)
  int64_t K1;                 // rows of a weight-noise kernel: the layer's fan-in, +1 for its bias
  NoiseSource noise;
  Sums s;
  // Per-copy weight noise by the first copy of its range, [K+1, h, C], dropped once the range's last chunk is
  // added (layer_chunks).
  std::map<int64_t, torch::Tensor> shared;
  std::mutex shared_mutex;
};

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kNone: return "none";
    case Mode::kLogit: return "logit";
    case Mode::kWeight: return "weight";
  }
  return "?";
}

Engine::Engine(LayeredModel& model, const EngineSettings& settings, std::vector<torch::Tensor> sigma)
    : model_(model), settings_(settings), layers_(model.layers()), sigma_(std::move(sigma)) {
  ::lrb::keep_freed_memory();
  TORCH_CHECK(settings_.layers.size() == layers_.size(), "LR engine: settings for ", settings_.layers.size(),
              " layers, model has ", layers_.size());
  TORCH_CHECK(sigma_.size() == layers_.size(), "LR engine: sigma for ", sigma_.size(), " layers, model has ",
              layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l)
    TORCH_CHECK(!(layers_[l].is_embedding() && settings_.layers[l].mode == Mode::kWeight), "LR engine: site ",
                layers_[l].name, " is an embedding (a lookup of int64 ids), which takes only logit noise");
}

CleanPass Engine::clean_pass(const Batch& batch) const {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(batch.x.defined() && batch.x.size(0) > 0, "LR engine: empty batch");
  CleanPass c;
  c.input = batch;
  const size_t n = layers_.size();
  c.z.resize(n);
  c.call_rows.resize(n);
  std::vector<torch::Tensor> first_input(n);
  std::vector<int64_t> calls(n, 0);
  // Every site call passes through the hook: its first call's pre-activation is kept (no second pass to
  // recompute it), and the per-row size of all calls sizes the hook path's chunks.
  model_.layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor&) {
    auto z = layers_[l](x);
    if (calls[l]++ == 0) c.z[l] = z, first_input[l] = x;
    c.call_rows[l].push_back(z.size(0));
    // Per batch row: a call may run on other rows (a graph's edges), which then count towards the nodes. A
    // shared call's input is never tiled (call_layer_shared).
    c.call_bytes += ((model_.shared_copies() ? 0 : x.numel()) + z.numel()) / batch.x.size(0) *
                    static_cast<int64_t>(sizeof(float));
    return z;
  };
  HookGuard guard{model_};
  if (model_.reuses_prefix()) {
    c.trace = model_.trace(batch);
  } else {
    c.trace.logits = model_.clean_forward(batch);
    c.trace.inputs = first_input;
    c.trace.batch = batch;
  }
  model_.layer_hook = nullptr;
  for (size_t l = 0; l < n; ++l) {
    if (!c.z[l].defined() && l < c.trace.inputs.size() && c.trace.inputs[l].defined())
      c.z[l] = layers_[l](c.trace.inputs[l]);  // a model whose trace() calls its layers directly
    TORCH_CHECK(c.z[l].defined(), "LR engine: site ", layers_[l].name, " is never called by the model's forward pass");
    // A chain's suffix perturbs one call per site; a second call would silently go unperturbed.
    TORCH_CHECK(!model_.reuses_prefix() || calls[l] <= 1, "LR engine: site ", layers_[l].name, " is called ", calls[l],
                " times per forward, so the model cannot reuse its prefix (reuses_prefix() must be false)");
    c.max_calls = std::max(c.max_calls, calls[l]);
  }
  c.live.resize(n);
  for (size_t l = 0; l < n; ++l) c.live[l] = model_.live_rows(static_cast<int>(l), batch);
  c.y = batch.y;
  if (batch.mask.defined()) {
    // One graph: the loss is the mean over the masked nodes, and every node's noise moves all of it.
    auto mask = batch.mask.to(c.trace.logits.scalar_type());
    TORCH_CHECK(mask.sum().item<double>() > 0, "LR engine: the graph batch masks out every node");
    c.row_weight = mask / mask.sum();
    c.y = batch.y.clamp_min(0);  // unlabelled nodes (weight 0) still need a valid class index
  }
  // Sobol points are negatively correlated from one point to the next, so they must never meet in one
  // loss: fine for independent rows with one call per site (one point per row), biased otherwise.
  TORCH_CHECK(settings_.source != Source::kSobol || (!c.coupled() && c.max_calls <= 1),
              "LR engine: Sobol noise needs independent rows and one call per site (this model ",
              c.coupled() ? "couples the rows of a graph" : "calls a site several times per forward", "); use noise: mc");
  c.loss = row_ce(c.trace.logits, c.y);
  switch (settings_.baseline) {
    case Baseline::kNone: c.baseline = torch::zeros_like(c.loss); break;
    case Baseline::kCleanLoss:
      c.baseline = c.coupled() ? torch::full_like(c.loss, c.mean_loss()) : c.loss;
      break;
    case Baseline::kBatchMean: c.baseline = torch::full_like(c.loss, c.mean_loss()); break;
  }
  return c;
}

double CleanPass::mean_loss() const {
  return (coupled() ? (loss * row_weight).sum() : loss.mean()).item<double>();
}

torch::Tensor Engine::copy_losses(const CleanPass& c, const torch::Tensor& logits, int64_t m, int64_t b0, int64_t b1) {
  const int64_t bc = b1 - b0;
  rows_ += m * bc;
  auto ce = row_ce(logits, c.y.slice(0, b0, b1).repeat({m})).view({m, bc});
  if (!c.coupled()) return ce.sub_(c.baseline.slice(0, b0, b1));
  TORCH_CHECK(b0 == 0 && b1 == c.batch(), "LR engine: the rows of a graph cannot be split into chunks");
  auto unit = (ce * c.row_weight).sum(1, true).sub_(c.baseline[0]);  // [m, 1]: each copy's loss
  return unit.expand({m, bc}).contiguous();
}

int64_t Engine::round_copies(int64_t copies) const {
  TORCH_CHECK(copies >= 1, "LR engine: copies must be >= 1 (got ", copies, ")");
  return settings_.antithetic ? (copies + 1) / 2 * 2 : copies;  // antithetic pairs: odd counts round up
}

int64_t Engine::row_bytes(const CleanPass& c, int from_layer) const {
  int64_t widest = 1;
  for (size_t k = from_layer; k < c.z.size(); ++k) widest = std::max(widest, c.z[k][0].numel());
  for (size_t k = from_layer + 1; k < c.trace.inputs.size(); ++k)
    widest = std::max(widest, c.trace.inputs[k][0].numel());
  return widest * static_cast<int64_t>(sizeof(float));
}

std::vector<Engine::Chunk> Engine::plan_chunks(int64_t from, int64_t to, int64_t batch, int64_t bytes,
                                               int64_t copy_bytes, bool whole_rows, int64_t budget) const {
  const int64_t unit = settings_.antithetic ? 2 : 1;
  const int64_t target = settings_.chunk_rows > 0 ? settings_.chunk_rows
                                                  : std::clamp<int64_t>(budget / bytes, 16, 16384);
  // Many copies of few examples per chunk: per-row weight noise then multiplies each example's input by
  // all its copies' kernels in one wide GEMM. Copy ranges are the outer loop, so per-copy noise drawn once
  // serves every example block of its range (shared_noise); copy_bytes (per-copy noise) caps the range.
  std::vector<Chunk> out;
  const int64_t n = to - from;
  if (n <= 0) return out;
  // A chunk that must hold whole graphs spends `batch` rows per copy.
  const int64_t rows_per_copy = whole_rows ? batch : 1;
  int64_t per = std::min(n, std::max(unit, target / rows_per_copy / unit * unit));
  if (copy_bytes > 0) per = std::min(per, std::max(unit, budget / copy_bytes / unit * unit));
  const int64_t block = whole_rows ? batch : std::clamp<int64_t>(target / per, 1, batch);
  for (int64_t c = from; c < to; c += per)
    for (int64_t b = 0; b < batch; b += block) out.push_back({c, std::min(per, to - c), b, std::min(batch, b + block)});
  return out;
}

std::pair<int64_t, int64_t> Engine::my_share(int64_t from, int64_t to) const {
  const int64_t unit = settings_.antithetic ? 2 : 1, units = (to - from) / unit;
  return {from + unit * (units * rank_ / world_), from + unit * (units * (rank_ + 1) / world_)};
}

void Engine::shard(int rank, int world) {
  TORCH_CHECK(world >= 1 && rank >= 0 && rank < world, "LR engine: rank ", rank, " of ", world);
  rank_ = rank, world_ = world;
}

uint64_t layer_key(uint64_t step_key, int l, int64_t call) {
  return stream_key(step_key, static_cast<uint64_t>(l), static_cast<uint64_t>(call));
}

uint64_t draw_key(at::Generator& gen) {
  auto k = at::randint(std::numeric_limits<int64_t>::max(), {1}, gen,
                       torch::TensorOptions().dtype(torch::kLong).device(gen.device()))
               .item<int64_t>();
  return splitmix64(static_cast<uint64_t>(k));
}

torch::Tensor Engine::suffix_loss(const CleanPass& c, int l, const Chunk& k, const torch::Tensor& z_phys) {
  const int64_t m = k.copies, bc = k.b1 - k.b0;
  auto z = from_phys(z_phys.view({m * bc, z_phys.size(2), z_phys.size(3)}), c.z[l]);
  auto logits = bc == c.batch() ? model_.forward_from(l, z, c.trace, m)
                                : model_.forward_from(l, z, slice_trace(c.trace, k.b0, k.b1), m);
  return copy_losses(c, logits, m, k.b0, k.b1);
}

namespace {
// Antithetic halves share their noise up to sign: coefficient of +ε for the gradient (a) and of ε²
// for the σ-gradient (s), each [h, Bc].
std::pair<torch::Tensor, torch::Tensor> pair_coefficients(const torch::Tensor& w, bool antithetic) {
  if (!antithetic) return {w, w};
  const int64_t h = w.size(0) / 2;
  auto lo = w.narrow(0, 0, h), hi = w.narrow(0, h, h);
  return {lo - hi, lo + hi};
}

// Z[c, b] = z[b] + Y[c, b] for the first half and z[b] − Y[c, b] for the antithetic half.
torch::Tensor perturbed(const torch::Tensor& zb, const torch::Tensor& Y, int64_t m, bool antithetic) {
  const int64_t h = Y.size(0);
  auto Z = torch::empty({m, Y.size(1), Y.size(2), Y.size(3)}, zb.options());
  auto first = Z.narrow(0, 0, h);
  at::add_out(first, zb, Y);
  if (antithetic) {
    auto second = Z.narrow(0, h, h);
    at::sub_out(second, zb, Y);
  }
  return Z;
}
}  // namespace

Engine::Part Engine::logit_chunk(const LayerRun& r, const Chunk& k) {
  const bool anti = settings_.antithetic;
  const int64_t m = k.copies, bc = k.b1 - k.b0, h = anti ? m / 2 : m;
  const int64_t S = r.zp.size(1), C = r.zp.size(2);
  auto E = r.noise.rows(noise_copy(k), h, k.b0, k.b1, true).view({bc, h, S, C}).mul_(r.sig);  // σε, example-major
  torch::Tensor live;  // [bc] 1 where the row reaches the loss
  if (r.c.live[r.l].defined()) {
    live = r.c.live[r.l].slice(0, k.b0, k.b1).to(E.options());
    E.mul_(live.view({bc, 1, 1, 1}));
  }
  auto zb = r.zp.slice(0, k.b0, k.b1).unsqueeze(0);
  auto w = suffix_loss(r.c, r.l, k, perturbed(zb, E.permute({1, 0, 2, 3}), m, anti));
  auto [a, s] = pair_coefficients(w, anti);
  auto E3 = E.view({bc, h, S * C});
  // Σ_c a[c,b]·σε[c,b]: the copies are summed first, so the weight-gradient op later runs on B rows only.
  Part p{at::bmm(a.t().unsqueeze(1), E3).view({bc, S, C}), {}};
  if (settings_.sigma_grad) {
    auto sq = at::bmm(s.t().unsqueeze(1), E3.square()).view({bc, S, C}).sum(at::IntArrayRef{0, 1});
    auto noisy = live.defined() ? (s * live.view({1, bc})).sum() : s.sum();  // Σ(ε² − 1) over noisy rows only
    p.s = sq.div(r.sig.square()).sub_(noisy * S);
  }
  return p;
}

Engine::Part Engine::weight_chunk(LayerRun& r, const Chunk& k) {
  const bool anti = settings_.antithetic, per_row = settings_.layers[r.l].weight_per_row;
  const int64_t m = k.copies, bc = k.b1 - k.b0, h = anti ? m / 2 : m;
  const int64_t P = r.U.size(r.cols ? 2 : 1), K1 = r.K1, C = r.zp.size(2);
  TORCH_CHECK(P == r.zp.size(1), "LR engine: unfolded positions ", P, " != output positions ", r.zp.size(1));
  auto Ub = r.U.slice(0, k.b0, k.b1);
  torch::Tensor X, Y;  // σξ; the noise part of the pre-activation, [h, Bc, P, C]
  if (per_row) {
    X = r.noise.rows(noise_copy(k), h, k.b0, k.b1, true).view({bc, h, K1, C}).permute({0, 2, 1, 3}).contiguous();
    X.mul_(r.sig);
    // One GEMM per example against all its copies' kernels: only σ·conv(x, ξ) is computed; the clean
    // product z is shared.
    // (at::mm per example: ATen's CPU bmm was up to 10x slower than mm for these shapes, e.g. K = 28.)
    auto prod = torch::empty({bc, P, h * C}, Ub.options());
    auto Xm = X.view({bc, K1, h * C});
    const int64_t K = r.cols ? r.U.size(1) : K1;
    for (int64_t b = 0; b < bc; ++b) {
      auto dst = prod[b];
      if (!r.cols)
        at::mm_out(dst, Ub[b], Xm[b]);
      else if (K1 > K)  // the bias noise, one row per copy, added at every position
        at::addmm_out(dst, Xm[b][K], Ub[b].t(), Xm[b].narrow(0, 0, K));
      else
        at::mm_out(dst, Ub[b].t(), Xm[b]);
    }
    Y = prod.view({bc, P, h, C}).permute({2, 0, 1, 3});
  } else {
    X = shared_noise(r, k);
    Y = at::mm(Ub.reshape({bc * P, K1}), X.view({K1, h * C})).view({bc, P, h, C}).permute({2, 0, 1, 3});
  }
  auto zb = r.zp.slice(0, k.b0, k.b1).unsqueeze(0);
  auto w = suffix_loss(r.c, r.l, k, perturbed(zb, Y, m, anti));
  auto [a, s] = pair_coefficients(w, anti);
  Part p;
  if (per_row) {
    p.g = (X * a.t().reshape({bc, 1, h, 1})).sum(at::IntArrayRef{0, 2});
    if (settings_.sigma_grad)
      p.s = (X.square() * s.t().reshape({bc, 1, h, 1})).sum(at::IntArrayRef{0, 1, 2}).div(r.sig.square()).sub_(s.sum() * K1);
  } else {
    // One kernel per copy: its coefficient is the copy's loss summed over the units it moves.
    const double unit = static_cast<double>(r.c.unit_rows());
    auto ac = a.sum(1).div_(unit), sc = s.sum(1).div_(unit);
    p.g = (X * ac.view({1, h, 1})).sum(1);
    if (settings_.sigma_grad)
      p.s = (X.square() * sc.view({1, h, 1})).sum(at::IntArrayRef{0, 1}).div(r.sig.square()).sub_(sc.sum() * K1);
  }
  return p;
}

torch::Tensor Engine::shared_noise(LayerRun& r, const Chunk& k) const {
  std::lock_guard<std::mutex> lock(r.shared_mutex);
  auto it = r.shared.find(k.c0);
  if (it != r.shared.end()) return it->second;
  const int64_t h = settings_.antithetic ? k.copies / 2 : k.copies, K1 = r.K1, C = r.zp.size(2);
  auto X = r.noise.per_copy(noise_copy(k), h).view({h, K1, C}).permute({1, 0, 2}).contiguous();
  X.mul_(r.sig);
  return r.shared.emplace(k.c0, X).first->second;
}

void Engine::add_part(LayerRun& r, const Chunk& k, const Part& p) {
  if (r.s.out_grad.defined())
    r.s.out_grad.slice(0, k.b0, k.b1).add_(p.g);
  else
    r.s.kc.add_(p.g);
  if (p.s.defined()) r.s.s.add_(p.s);
}

void Engine::layer_chunks(LayerRun& r, const std::vector<Chunk>& chunks) {
  const bool logit = settings_.layers[r.l].mode == Mode::kLogit;
  auto part = [&](const Chunk& k) { return logit ? logit_chunk(r, k) : weight_chunk(r, k); };
  const int64_t n = static_cast<int64_t>(chunks.size());
  // After chunk i is added: its copy range's per-copy noise goes when no later chunk is of that range.
  auto added = [&](int64_t i) {
    if (i + 1 < n && chunks[i + 1].c0 == chunks[i].c0) return;
    std::lock_guard<std::mutex> lock(r.shared_mutex);
    r.shared.erase(chunks[i].c0);
  };
  const int threads = at::get_num_threads();
  // A chunk's ops (a suffix of ~100 rows, a per-example product) are too small to split over the cores without
  // hand-overs between ATen's and OpenBLAS's threads costing what the split gains: where the model allows it and
  // there is a chunk for every thread, each chunk runs on one thread. On a GPU the kernels of one stream run in order
  // whichever thread launches them.
  if (!model_.concurrent_copies() || n < threads || threads < 2 || !r.zp.device().is_cpu()) {
    for (int64_t i = 0; i < n; ++i) add_part(r, chunks[i], part(chunks[i])), added(i);
    return;
  }
  // Parts are added in chunk order as soon as every earlier one is in, so with OpenBLAS the estimate is the same bit
  // for bit on one thread or several (each chunk runs single-threaded either way; MKL blocks its products by its own
  // thread count). A chunk more than two per thread ahead of the next part to add waits, so few parts are in memory;
  // the chunk that part belongs to is running on another thread, so the wait ends.
  std::vector<std::optional<Part>> parts(n);
  std::mutex parts_mutex;
  std::condition_variable front_moved;
  int64_t next_to_add = 0;
  bool failed = false;  // a chunk threw: the front will not move again
  const int64_t ahead = 2 * static_cast<int64_t>(threads);
  run_tasks_on_threads(n, threads, [&](int64_t i) {
    {
      std::unique_lock<std::mutex> lock(parts_mutex);
      front_moved.wait(lock, [&] { return failed || i < next_to_add + ahead; });
      if (failed) return;
    }
    Part p;
    try {
      p = part(chunks[i]);
    } catch (...) {
      std::lock_guard<std::mutex> lock(parts_mutex);
      failed = true;
      front_moved.notify_all();
      throw;
    }
    std::lock_guard<std::mutex> lock(parts_mutex);
    parts[i] = std::move(p);
    const int64_t before = next_to_add;
    for (; next_to_add < n && parts[next_to_add]; ++next_to_add) {
      add_part(r, chunks[next_to_add], *parts[next_to_add]);
      parts[next_to_add].reset();
      added(next_to_add);
    }
    if (next_to_add != before) front_moved.notify_all();
  });
}

std::vector<LayerGrad> Engine::layer(const CleanPass& c, int l, const std::vector<int64_t>& copies_at,
                                     at::Generator& gen) {
  return layer(c, l, copies_at, draw_key(gen));
}

std::vector<LayerGrad> Engine::layer(const CleanPass& c, int l, const std::vector<int64_t>& copies_at,
                                     uint64_t step_key) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(l >= 0 && l < static_cast<int>(layers_.size()), "LR engine: no layer ", l);
  const auto mode = settings_.layers[l].mode;
  TORCH_CHECK(mode != Mode::kNone, "LR engine: layer ", layers_[l].name, " has noise mode none");
  if (!model_.reuses_prefix()) {  // no suffix to start from: the whole noisy pass, only site l perturbed
    std::vector<bool> active(layers_.size(), false);
    active[l] = true;
    std::vector<LayerGrad> out;
    for (auto& grads : hooked(c, active, copies_at, step_key)) out.push_back(std::move(grads[l]));
    return out;
  }
  auto zp = to_phys(c.z[l]);
  const int64_t C = zp.size(2);
  torch::Tensor U;
  const bool per_row = settings_.layers[l].weight_per_row;
  const bool cols = mode == Mode::kWeight && per_row && layers_[l].is_conv();
  int64_t K1 = 0;
  if (mode == Mode::kWeight) {
    U = cols ? unfold_cols(layers_[l], c.trace.inputs[l]) : unfold_rows(layers_[l], c.trace.inputs[l]);
    K1 = cols ? U.size(1) + (layers_[l].bias().defined() ? 1 : 0) : U.size(2);
  }
  const int64_t dim = mode == Mode::kLogit ? zp.size(1) * C : K1 * C;
  LayerRun r{c, l, zp, U, sigma_[l].to(zp.options()), cols, K1,
             NoiseSource(settings_.source, dim, layer_key(step_key, l), c.batch(), zp.options()), {}, {}, {}};
  if (mode == Mode::kLogit)
    r.s.out_grad = torch::zeros_like(zp);
  else
    r.s.kc = torch::zeros({K1, C}, zp.options());
  if (settings_.sigma_grad) r.s.s = torch::zeros({C}, zp.options());

  std::vector<LayerGrad> out;
  int64_t done = 0;
  // Weight noise: per-row kernels count towards each row, per-copy kernels towards each copy.
  const int64_t noise_bytes = K1 * C * static_cast<int64_t>(sizeof(float));
  const int64_t bytes = row_bytes(c, l) + (per_row ? noise_bytes : 0);
  for (int64_t target : copies_at) {
    target = round_copies(target);
    TORCH_CHECK(target >= done, "LR engine: copies_at must be increasing (got ", target, " after ", done, ")");
    const auto [from, to] = my_share(done, target);
    layer_chunks(r, plan_chunks(from, to, c.batch(), bytes, per_row ? 0 : noise_bytes, c.coupled(), kChunkBytes));
    done = target;
    out.push_back(finalize(r.s, l, c, target));
  }
  return out;
}

LayerGrad Engine::finalize(const Sums& s, int l, const CleanPass& c, int64_t copies) const {
  LayerGrad g;
  const auto& layer = layers_[l];
  // Rows sharing one loss (a graph's nodes) count once: the estimate is a mean over units.
  const double n = static_cast<double>(std::max<int64_t>(copies * c.batch() / c.unit_rows(), 1));
  auto sig2 = sigma_[l].to(c.z[l].options()).square();  // the sums hold σε, the estimator wants ε/σ
  // Logit noise: terms summed per row of the clean input (out_grad: layer-wise, a reused shared call) and
  // terms already in parameter shape (w, b: the hook path), either or both.
  if (s.out_grad.defined()) {
    auto G = from_phys(s.out_grad.div(sig2).div_(n), c.z[l]).contiguous();
    std::tie(g.weight, g.bias) = weight_grad(layer, G, c.trace.inputs[l]);
  }
  if (s.w.defined()) {
    std::vector<int64_t> shape(layer.weight().dim(), 1);
    shape[layer.is_embedding() ? 1 : 0] = -1;  // σ is per output channel: a lookup's columns
    auto w = s.w.div(sig2.view(shape)).div_(n);
    g.weight = g.weight.defined() ? g.weight.add_(w) : w;
    if (s.b.defined()) {
      auto b = s.b.div(sig2).div_(n);
      g.bias = g.bias.defined() ? g.bias.add_(b) : b;
    }
  } else if (s.kc.defined()) {
    auto kc = s.kc.div(sig2).div_(n);
    const int64_t K = layer.weight()[0].numel();
    g.weight = kc.narrow(0, 0, K).t().reshape(layer.weight().sizes());
    if (layer.bias().defined()) g.bias = kc[K].clone();
  }
  if (s.s.defined()) g.log_sigma = s.s.div(n);
  return g;
}

}  // namespace lrb::lr
