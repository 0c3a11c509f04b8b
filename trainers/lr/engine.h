// The likelihood-ratio gradient engine (docs/ARCHITECTURE.md §11, docs/PAPER.md §3). A perturbable layer turns the
// per-copy losses of its noisy copies into its own gradient, without back-propagation:
//   logit noise  z + σε:      grad W = mean_rows[(L − L0) · ε/σ ⊗ x]   (the layer's weight-gradient op)
//   weight noise W + σξ:      grad W = mean_rows[(L − L0) · ξ/σ]
//   learned log σ:            grad   = mean_rows[(L − L0) · Σ(ε² − 1)]  per output channel
// Rows are copy-major (row c*B + b is copy c of example b); antithetic halves put ε and −ε on the same
// example. Everything here runs under NoGradGuard and never calls backward().
#pragma once
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/batch.h"
#include "models/layered.h"
#include "trainers/lr/noise.h"

namespace lrb::lr {

enum class Mode { kNone, kLogit, kWeight };
enum class Baseline { kNone, kCleanLoss, kBatchMean };

struct LayerSetting {
  Mode mode = Mode::kNone;
  int64_t copies = 100;
  double sigma0 = 0.1;
  bool weight_per_row = true;  // weight noise: a kernel per (copy, example) row (paper) or one per copy
};

struct EngineSettings {
  std::vector<LayerSetting> layers;
  bool antithetic = true;
  Baseline baseline = Baseline::kCleanLoss;
  Source source = Source::kMC;
  bool layerwise = true;
  bool sigma_grad = false;  // also estimate the gradient in log σ (learned σ)
  int64_t chunk_rows = 0;   // rows per suffix pass; 0 = auto (cache-sized)
  // A shared call (call_layer_shared) with another input than the clean pass's: one product for all copies and
  // their noise terms summed before the weight-gradient op (true), or the input tiled per copy (false: the
  // reference the tests compare the shortcut with).
  bool sum_shared_calls = true;
};

// A layer's estimated gradient, shaped like its parameters (log_sigma: [out]).
struct LayerGrad {
  torch::Tensor weight, bias, log_sigma;
};

// The clean pass of one batch, shared by every layer's estimate. B counts rows: examples, or the nodes
// of one graph. A graph's rows are coupled: one loss per copy (the mean over its masked nodes), and every
// row of a copy carries that copy's loss in the estimator.
struct CleanPass {
  Batch input;                   // the batch as given (the hook path re-runs it with copies)
  ForwardTrace trace;            // chain models: every site's input; others: each site's first call
  std::vector<torch::Tensor> z;  // clean pre-activation of every site (its first call)
  torch::Tensor y;               // targets [B] (graph: every node, unmasked ones clamped to a valid class)
  torch::Tensor loss;            // clean per-row loss [B]
  torch::Tensor row_weight;      // graph: [B] mask / masked count (the loss is Σ row_weight·loss); else undefined
  torch::Tensor baseline;        // [B], subtracted from each copy's loss (graph: the clean graph loss per row)
  std::vector<torch::Tensor> live;  // per site: bool [B] rows that reach the loss (model.live_rows), or undefined
  std::vector<std::vector<int64_t>> call_rows;  // per site, the output rows of each of its calls (one copy)
  int64_t call_bytes = 0;        // per row, the inputs and outputs of every site call (hook path sizing)
  int64_t max_calls = 0;         // the most calls of one site in a forward pass
  int64_t batch() const { return y.size(0); }
  bool coupled() const { return row_weight.defined(); }
  int64_t unit_rows() const { return coupled() ? batch() : 1; }  // rows sharing one loss
  double mean_loss() const;      // the batch's clean training loss
};

class Engine {
 public:
  // sigma[l]: the current noise scale of layer l, one value per output channel.
  Engine(LayeredModel& model, const EngineSettings& settings, std::vector<torch::Tensor> sigma);

  CleanPass clean_pass(const Batch& batch) const;
  // Noise is addressed by (step key, layer, call, copy, row) (noise.h): the estimate does not depend on the
  // chunk shape, the order layers are estimated in, or which process draws which copies.
  //
  // Layer-wise injection for layer l: the estimate after each entry of `copies_at` (increasing
  // cumulative copy counts; one run of copies_at.back() copies serves every entry). Chain models run
  // only the suffix after l; other models run the whole noisy pass with only site l perturbed.
  std::vector<LayerGrad> layer(const CleanPass& c, int l, const std::vector<int64_t>& copies_at, uint64_t step_key);
  // The same with a step key drawn from `gen` (one draw).
  std::vector<LayerGrad> layer(const CleanPass& c, int l, const std::vector<int64_t>& copies_at,
                               at::Generator& gen);
  // All perturbed layers at once with one set of copies: result[k][l] after copies_at[k] copies. Noise
  // enters at every call of a site: logit noise fresh at each call (the per-call terms of the estimator
  // summed, e.g. over a recurrent cell's time steps) and zero on the call's dead rows (call_layer's live
  // rows), weight noise drawn once per copy and pass (on every row: the draw is shared across calls).
  std::vector<std::vector<LayerGrad>> joint(const CleanPass& c, const std::vector<int64_t>& copies_at,
                                            uint64_t step_key);
  std::vector<std::vector<LayerGrad>> joint(const CleanPass& c, const std::vector<int64_t>& copies_at,
                                            at::Generator& gen);
  // This process's share of every increment of copies (a contiguous range of antithetic pairs): the
  // estimates it returns are then partial sums, normalised by the whole count, that add up over the ranks
  // (Collective::all_reduce_sum) to the one-process estimate. rank 0 of 1 (the default) is the whole.
  void shard(int rank, int world);
  // Rows pushed through (parts of) the network since construction: the compute budget.
  int64_t rows() const { return rows_; }

 private:
  struct Sums;
  struct LayerRun;
  struct Chunk {
    int64_t c0, copies, b0, b1;  // copies [c0, c0 + copies) of examples [b0, b1)
  };
  // The noise index of a chunk's first copy: antithetic pairs share one draw.
  int64_t noise_copy(const Chunk& k) const { return settings_.antithetic ? k.c0 / 2 : k.c0; }
  // This rank's part of copies [from, to), whole antithetic pairs.
  std::pair<int64_t, int64_t> my_share(int64_t from, int64_t to) const;
  // budget: the bytes a chunk's rows may span (row_bytes each, plus copy_bytes per copy).
  std::vector<Chunk> plan_chunks(int64_t from, int64_t to, int64_t batch, int64_t row_bytes,
                                 int64_t copy_bytes, bool whole_rows, int64_t budget) const;
  int64_t row_bytes(const CleanPass& c, int from_layer) const;
  int64_t round_copies(int64_t copies) const;
  // The estimate from sums over any share of `copies` copies (the mean is over all of them).
  LayerGrad finalize(const Sums& s, int l, const CleanPass& c, int64_t copies) const;
  torch::Tensor suffix_loss(const CleanPass& c, int l, const Chunk& k, const torch::Tensor& z_phys);
  // What one chunk of a layer-wise estimate adds to the layer's sums (add_part adds it).
  struct Part {
    torch::Tensor g;  // logit noise: rows [b0, b1) of out_grad; weight noise: kc
    torch::Tensor s;  // the σ-gradient's per-channel term (learned σ only)
  };
  Part logit_chunk(const LayerRun& r, const Chunk& k);
  Part weight_chunk(LayerRun& r, const Chunk& k);
  static void add_part(LayerRun& r, const Chunk& k, const Part& p);
  // One layer's chunks, their parts added in chunk order; a model with concurrent_copies() runs the chunks on
  // run_tasks_on_threads' workers when there are at least as many chunks as threads.
  void layer_chunks(LayerRun& r, const std::vector<Chunk>& chunks);
  // Per-copy weight noise of chunk k's copy range, σξ [K+1, h, C]: drawn by the range's first chunk to need it,
  // shared by the others, dropped after the range's last part is added.
  torch::Tensor shared_noise(LayerRun& r, const Chunk& k) const;
  std::vector<std::vector<LayerGrad>> hooked(const CleanPass& c, const std::vector<bool>& active,
                                             const std::vector<int64_t>& copies_at, uint64_t step_key);
  void joint_chunk(std::vector<Sums>& sums, const CleanPass& c, const Chunk& k, const std::vector<bool>& active,
                   uint64_t step_key);
  // The hook path's chunks in order, into `sums`; a model with concurrent_copies() runs them in lanes (below).
  void joint_chunks(std::vector<Sums>& sums, const CleanPass& c, const std::vector<Chunk>& chunks,
                    const std::vector<bool>& active, uint64_t step_key);
  // Loss of each row's unit minus its baseline, [m, b1-b0], for m copies of rows [b0, b1).
  torch::Tensor copy_losses(const CleanPass& c, const torch::Tensor& logits, int64_t m, int64_t b0, int64_t b1);

  LayeredModel& model_;
  EngineSettings settings_;
  std::vector<PerturbableLayer> layers_;
  std::vector<torch::Tensor> sigma_;
  std::atomic<int64_t> rows_{0};  // concurrent chunks count their rows
  int rank_ = 0, world_ = 1;
  // The hooked pass's streams, one per (layer, call) key, kept across the chunks of one estimate: a Sobol
  // stream's scramble is drawn once.
  std::map<uint64_t, NoiseSource> sources_;
  std::mutex sources_mutex_;  // concurrent chunks add streams; a map's elements stay where they are
  const NoiseSource& source(uint64_t key, int64_t dim, int64_t rows_per_copy, const torch::TensorOptions& opts);
};

// The noise key of layer l's stream at a step (call 0: layer-wise injection and weight noise; a hooked pass's
// logit noise at call k uses call k + 1).
uint64_t layer_key(uint64_t step_key, int l, int64_t call = 0);
// One step key from a run's generator: the only draw a step makes from it.
uint64_t draw_key(at::Generator& gen);

const char* mode_name(Mode m);

}  // namespace lrb::lr
