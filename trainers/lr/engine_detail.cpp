#include "trainers/lr/engine_detail.h"

#include "core/runtime.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR < 2
#include <c10/util/variant.h>
#endif

namespace lrb::lr::detail {

#if TORCH_VERSION_MAJOR >= 2
const torch::ExpandingArray<2>* explicit_padding(const torch::nn::detail::ConvNdOptions<2>& o) {
  return std::get_if<torch::ExpandingArray<2>>(&o.padding());
}
bool pads_with_zeros(const torch::nn::detail::ConvNdOptions<2>& o) {
  return std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
}
#else
const torch::ExpandingArray<2>* explicit_padding(const torch::nn::detail::ConvNdOptions<2>& o) {
  return c10::get_if<torch::ExpandingArray<2>>(&o.padding());
}
bool pads_with_zeros(const torch::nn::detail::ConvNdOptions<2>& o) {
  return c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
}
#endif

ConvGeometry geometry(const PerturbableLayer& layer) {
  TORCH_CHECK(layer.is_conv(), "layer ", layer.name, " is not a convolution");
  const auto& o = layer.conv->options;
  const auto* pad = explicit_padding(o);
  TORCH_CHECK(pad, "LR engine: layer ", layer.name, " uses 'same'/'valid' padding; give explicit padding");
  TORCH_CHECK(pads_with_zeros(o), "LR engine: layer ", layer.name,
              " pads with a non-zero mode (only zeros is supported)");
  ConvGeometry g;
  g.kernel = c10::IntArrayRef(o.kernel_size()).vec();
  g.stride = c10::IntArrayRef(o.stride()).vec();
  g.padding = c10::IntArrayRef(*pad).vec();
  g.dilation = c10::IntArrayRef(o.dilation()).vec();
  g.groups = o.groups();
  TORCH_CHECK(g.groups == 1, "LR engine: grouped convolutions are not supported (layer ", layer.name, " has ",
              g.groups, " groups)");
  return g;
}

torch::Tensor to_phys(const torch::Tensor& z) {
  if (z.dim() == 2) return z.contiguous().unsqueeze(1);
  TORCH_CHECK(z.dim() == 4, "LR engine: pre-activations must be [R,C] or [R,C,H,W] (got ", z.dim(), " dims)");
  return z.permute({0, 2, 3, 1}).contiguous().view({z.size(0), z.size(2) * z.size(3), z.size(1)});
}

torch::Tensor from_phys(const torch::Tensor& t, const torch::Tensor& like) {
  const int64_t R = t.size(0), C = t.size(2);
  if (like.dim() == 2) return t.view({R, C});
  return t.view({R, like.size(2), like.size(3), C}).permute({0, 3, 1, 2});
}

torch::Tensor unfold_rows(const PerturbableLayer& layer, const torch::Tensor& x) {
  const bool bias = layer.bias().defined();
  if (!layer.is_conv()) {
    auto u = bias ? torch::cat({x, torch::ones({x.size(0), 1}, x.options())}, 1) : x;
    return u.unsqueeze(1);
  }
  auto g = geometry(layer);
  auto u = at::im2col(x.contiguous(), g.kernel, g.dilation, g.padding, g.stride);  // [R, K, P]
  if (bias) u = torch::cat({u, torch::ones({u.size(0), 1, u.size(2)}, u.options())}, 1);
  return u.transpose(1, 2).contiguous();
}

torch::Tensor unfold_cols(const PerturbableLayer& layer, const torch::Tensor& x) {
  auto g = geometry(layer);
  auto xc = x.contiguous();
  const int64_t B = xc.size(0);
  const int threads = at::get_num_threads();
  if (B < 2 || threads < 2 || !xc.device().is_cpu() || xc.dim() != 4)
    return at::im2col(xc, g.kernel, g.dilation, g.padding, g.stride);
  // ATen's CPU im2col unfolds its examples one after another on one thread (39 of the 76 ms that a ResNet-5 LR-WL
  // step at copies ÷10 spent on the calling thread, the other core idle): slices of the batch go to threads of
  // their own, each into its part of one output.
  int64_t P = 1;
  for (int d = 0; d < 2; ++d)
    P *= (xc.size(2 + d) + 2 * g.padding[d] - g.dilation[d] * (g.kernel[d] - 1) - 1) / g.stride[d] + 1;
  auto out = at::empty({B, xc.size(1) * g.kernel[0] * g.kernel[1], P}, xc.options());
  const int64_t pieces = std::min<int64_t>(B, 2 * threads);
  run_tasks_on_threads(pieces, threads, [&](int64_t i) {
    const int64_t b0 = B * i / pieces, b1 = B * (i + 1) / pieces;
    auto part = out.narrow(0, b0, b1 - b0);
    at::im2col_out(part, xc.narrow(0, b0, b1 - b0), g.kernel, g.dilation, g.padding, g.stride);
  });
  return out;
}

namespace {
template <class T>
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void rowwise_kernel(const T* u, const T* x, T* out, int64_t r0, int64_t r1, int64_t P, int64_t K, int64_t C) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* ur = u + r * P * K;
    const T* xr = x + r * K * C;
    T* o = out + r * P * C;
    for (int64_t p = 0; p < P; ++p) {
      T* op = o + p * C;
      for (int64_t c = 0; c < C; ++c) op[c] = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T a = ur[p * K + k];
        const T* xk = xr + k * C;
        for (int64_t c = 0; c < C; ++c) op[c] += a * xk[c];
      }
    }
  }
}
}  // namespace

torch::Tensor rowwise_mm(const torch::Tensor& u, const torch::Tensor& x) {
  TORCH_CHECK(u.dim() == 3 && x.dim() == 3 && u.size(0) == x.size(0) && u.size(2) == x.size(1),
              "rowwise_mm: shapes ", u.sizes(), " and ", x.sizes(), " do not match");
  if (!u.is_cpu() || (u.scalar_type() != torch::kFloat && u.scalar_type() != torch::kDouble)) return at::bmm(u, x);
  auto uc = u.contiguous(), xc = x.to(u.scalar_type()).contiguous();
  const int64_t R = u.size(0), P = u.size(1), K = u.size(2), C = x.size(2);
  auto out = torch::empty({R, P, C}, u.options());
  AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "rowwise_mm", [&] {
    const auto* up = uc.data_ptr<scalar_t>();
    const auto* xp = xc.data_ptr<scalar_t>();
    auto* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, R, 1, [&](int64_t r0, int64_t r1) { rowwise_kernel<scalar_t>(up, xp, op, r0, r1, P, K, C); });
  });
  return out;
}

ForwardTrace slice_trace(const ForwardTrace& t, int64_t b0, int64_t b1) {
  ForwardTrace s;
  for (const auto& x : t.inputs) s.inputs.push_back(x.defined() ? x.slice(0, b0, b1) : x);
  if (t.logits.defined()) s.logits = t.logits.slice(0, b0, b1);
  TORCH_CHECK(!t.batch.mask.defined(), "LR engine: the rows of a graph cannot be split into chunks");
  s.batch = t.batch;
  for (auto* f : {&s.batch.x, &s.batch.y, &s.batch.lengths})
    if (f->defined()) *f = f->slice(0, b0, b1);
  return s;
}

torch::Tensor row_ce(const torch::Tensor& logits, const torch::Tensor& y) {
  return -torch::log_softmax(logits, 1).gather(1, y.unsqueeze(1)).squeeze(1);
}

std::pair<torch::Tensor, torch::Tensor> weight_grad(const PerturbableLayer& layer, const torch::Tensor& g,
                                                    const torch::Tensor& x) {
  const bool bias = layer.bias().defined();
  // A lookup's weight gradient is the scatter-add of the output gradient onto the looked-up rows (what
  // autograd's embedding_backward does): each id gets the sum of its rows' g, the padding row none.
  if (layer.is_embedding()) {
    auto gw = torch::zeros_like(layer.weight());
    torch::Tensor no_bias;
    add_weight_grad(layer, g, x, gw, no_bias);
    return {gw, no_bias};
  }
  if (!layer.is_conv()) return {g.t().mm(x), bias ? g.sum(0) : torch::Tensor()};
  auto geo = geometry(layer);
  std::vector<int64_t> bias_sizes{g.size(1)};
  auto out = at::convolution_backward(g, x.contiguous(), layer.weight(), at::OptionalIntArrayRef(bias_sizes),
                                      geo.stride, geo.padding, geo.dilation, false, {0, 0}, geo.groups,
                                      {false, true, bias});
  return {std::get<1>(out), bias ? std::get<2>(out) : torch::Tensor()};
}

void add_weight_grad(const PerturbableLayer& layer, const torch::Tensor& g, const torch::Tensor& x, torch::Tensor& w,
                     torch::Tensor& b) {
  if (layer.is_embedding()) {
    w.index_add_(0, x.reshape(-1), g.reshape({x.numel(), -1}));
    if (auto pad = layer.embedding->options.padding_idx()) w[*pad].zero_();
    return;
  }
  if (!layer.is_conv()) {
    w.addmm_(g.t(), x);
    if (layer.bias().defined()) b.add_(g.sum(0));
    return;
  }
  auto [gw, gb] = weight_grad(layer, g, x);
  w.add_(gw);
  if (gb.defined()) b.add_(gb);
}

}  // namespace lrb::lr::detail
