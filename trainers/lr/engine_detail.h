// Internals shared by engine.cpp (layer-wise) and joint.cpp (all layers at once). Tensor layout
// convention: a pre-activation [R, C, H, W] (or [R, C]) is handled "physically" as [R, S, C] with
// S = H*W, i.e. channels-last, which is what oneDNN's fast convolutions want.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "models/layered.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {

struct Engine::Sums {
  torch::Tensor out_grad;  // logit noise, layer-wise or a shared call: Σ a·σε per (example, position, channel) [B, S, C]
  torch::Tensor w, b;      // joint logit noise: weight-gradient sums in parameter shape
  torch::Tensor kc;        // weight noise: Σ a·σξ as [K+1, C] (last row: bias)
  torch::Tensor s;         // Σ s·Σ(ε² − 1) per channel [C] (learned σ only)
};

namespace detail {

// Clears the model's layer hook when the scope ends (also on a throw).
struct HookGuard {
  LayeredModel& m;
  ~HookGuard() { m.layer_hook = nullptr; }
};

struct ConvGeometry {
  std::vector<int64_t> kernel, stride, padding, dilation;
  int64_t groups = 1;
};
ConvGeometry geometry(const PerturbableLayer& layer);

// A convolution's explicit padding, or null for 'same'/'valid'; and whether it pads with zeros. (LibTorch 1.13
// keeps these options in c10::variant, 2.x in std::variant.)
const torch::ExpandingArray<2>* explicit_padding(const torch::nn::detail::ConvNdOptions<2>& o);
bool pads_with_zeros(const torch::nn::detail::ConvNdOptions<2>& o);

// [R, C, H, W] or [R, C] -> contiguous [R, S, C].
torch::Tensor to_phys(const torch::Tensor& z);
// [R, S, C] -> [R, C, H, W] channels-last view (or [R, C]) shaped like `like` (rows aside).
torch::Tensor from_phys(const torch::Tensor& t, const torch::Tensor& like);
// The hook path keeps every call of a pass (a recurrent net's T steps of small products), so its bytes per row
// are the whole pass's: a larger budget than layer-wise chunks' cache-sized one, where per-chunk costs, not
// the cache, decide (2 cores, OPENBLAS_THREAD_TIMEOUT=22: the SNN LR step 321-332 ms at 24 MB, 496 ms at
// 8 MB; the LSTM's with 100 copies 2.6-2.8 s and 3.3 s).
inline constexpr int64_t kHookChunkBytes = int64_t{24} << 20;

// The layer's input unfolded and transposed, with a ones column for the bias: [R, P, K(+1)].
torch::Tensor unfold_rows(const PerturbableLayer& layer, const torch::Tensor& x);
// A convolution's im2col columns as ATen makes them, [R, K, P]: unfold_rows without its transposed copy and
// ones column (three passes over the largest tensor of a weight-noise layer). A product takes U[r]ᵀ as a
// transposed operand and adds the bias noise as a row.
torch::Tensor unfold_cols(const PerturbableLayer& layer, const torch::Tensor& x);
// Rows [b0, b1) of every tensor in the trace.
ForwardTrace slice_trace(const ForwardTrace& t, int64_t b0, int64_t b1);
// Cross-entropy of every row.
torch::Tensor row_ce(const torch::Tensor& logits, const torch::Tensor& y);
// out[r] = u[r] @ x[r] for u [R, P, K], x [R, K, C]: one small product per row (joint weight noise).
// ATen's CPU bmm loops over the batch at ~2 ms per [1024 x 73] @ [73 x 16] row; this kernel vectorises
// over C instead (~10 µs per row).
torch::Tensor rowwise_mm(const torch::Tensor& u, const torch::Tensor& x);
// Weight and bias gradient of `layer` for output gradient g ([R, C, H, W] / [R, C]) and input x (an
// embedding: ids [R], no bias).
std::pair<torch::Tensor, torch::Tensor> weight_grad(const PerturbableLayer& layer, const torch::Tensor& g,
                                                    const torch::Tensor& x);
// The same gradient added into w (and b, when the layer has a bias) without a temporary of the weight's size: the
// hook path adds one site call at a time instead of stacking every call's rows (a copy of all of them per chunk).
void add_weight_grad(const PerturbableLayer& layer, const torch::Tensor& g, const torch::Tensor& x, torch::Tensor& w,
                     torch::Tensor& b);

}  // namespace detail
}  // namespace lrb::lr
