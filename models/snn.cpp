// snn: a leaky integrate-and-fire MLP (docs/PAPER.md §2.3; the paper's §3.2 neuron), input -> hidden... ->
// classes, run for `steps` time steps with the image as a constant input current at every step (direct encoding,
// raw [0,1] pixels: no normalisation, so an attack's eps is in the same units as the current):
//   u_t = decay · u_{t-1} · (1 − s_{t-1}) + W x_t + b,   s_t = H(u_t − threshold)      (hidden layers; u_0 = 0)
// i.e. the membrane leaks by `decay` and resets to zero after a spike. x_t is the image for the first layer and
// the previous layer's spikes of the same step after that (SpikingJelly's step-by-step convention; the paper's
// indices delay each layer by one step, which only shifts when a spike arrives).
// Readout (`readout`; the paper does not say which): membrane (the default): the output layer integrates its input
// current without spiking (u_t = decay · u_{t−1} + W s_t + b) and its membrane potential at the last step is the
// logits; spike-count: the output layer is LIF too and its spike count over the steps is the logits (a rate
// readout, as SpikingJelly's examples read their nets); spikes: its last step's spikes (0/1 logits: classes tie,
// and argmax then takes the first). Why membrane by default: binary or small-integer logits tie in evaluation and
// cross-entropy on them is nearly flat; the membrane keeps the loss a function of every step's spikes. LR is exact
// under each (noise on that layer's input current; it never differentiates the readout).
// Encoding (`encoding`): current (the default): the raw image is the input current at every step; poisson: rate
// coding, pixel p spikes with probability p at each step (models/rate_code.h: addressable draws keyed by the
// image and a key drawn at construction, saved with the checkpoint as the buffer `encoding_key`; gradients pass
// straight through the draw).
// The true forward is the Heaviside spike. For BP (BPTT) and white-box attacks its derivative is a surrogate
// (`surrogate`): sigmoid (α·σ(αv)(1−σ(αv)), SpikingJelly's surrogate.Sigmoid), atan (SpikingJelly's
// surrogate.ATan: α/2 / (1 + (π/2·α·v)²)), both with slope α = `surrogate_slope`; none: no gradient through a
// spike (only the output layer gets BP gradients, and a white-box attack is refused). The surrogate enters only
// autograd: the forward value is H either way, and LR/ES never use it.
// LR sites (the paper's estimator: noise on every layer's input current at every step, the per-step terms
// Σ_t z_t x_tᵀ summed): every Linear, called once per step. The first layer's input is the same in every copy
// (call_layer_shared: one input-current product per step for all copies, the copies' noise terms summed before the
// weight-gradient op); with current coding it is also the same at every step, so the clean pass's product serves.
#include <torch/torch.h>

#include <cmath>

#include "core/registry.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "models/rate_code.h"

namespace lrb {

struct SnnOptions {
  std::vector<int64_t> hidden{500};
  int64_t steps = 8;
  double decay = 0.5, threshold = 1.0, surrogate_slope = 4.0;
  std::string surrogate = "sigmoid", readout = "membrane", encoding = "current";
  static SnnOptions from(const Config& c) {
    SnnOptions o;
    c.has("name");
    c.read("hidden", o.hidden, Range::at_least(1));
    c.read("steps", o.steps, Range::between(1, 1000));
    c.read("decay", o.decay, Range{0.0, 1.0});
    c.read("threshold", o.threshold, Range{1e-6, 1e6});
    c.read_choice("surrogate", o.surrogate, {"sigmoid", "atan", "none"});
    c.read("surrogate_slope", o.surrogate_slope, Range{1e-3, 1e3});
    c.read_choice("readout", o.readout, {"membrane", "spike-count", "spikes"});
    c.read_choice("encoding", o.encoding, {"current", "poisson"});
    return o;
  }
};

class SnnImpl : public ClassifierImpl, public LayeredModel {
 public:
  SnnImpl(const SnnOptions& o, const ModelContext& ctx) : o_(o) {
    int64_t in = 1;
    for (auto d : ctx.input.shape) in *= d;
    auto widths = o.hidden;
    widths.push_back(ctx.num_classes);
    for (size_t i = 0; i < widths.size(); ++i) {
      auto name = "fc" + std::to_string(i);
      fc_.push_back(register_module(name, torch::nn::Linear(in, widths[i])));
      sites_.push_back({name, fc_.back(), nullptr});
      sizes_.push_back(widths[i]);
      in = widths[i];
    }
    // Drawn from the run's seeded generator only when used, so a current-coded net's initialisation is unchanged.
    // An int64 buffer: Module::to(dtype) casts it too (double keeps it deterministic; 16-bit types are unsupported).
    if (o.encoding == "poisson")  // host: built with the module, which is on the host until moved
      encoding_key_ = register_buffer("encoding_key", torch::randint(0, int64_t{1} << 62, {1}, torch::kLong));
  }

  torch::Tensor forward(const Batch& b) override { return forward_copies(b, 1); }
  std::string key() const override { return "snn"; }
  Modality modality() const override { return Modality::kImage; }
  std::vector<PerturbableLayer> layers() override { return sites_; }
  std::vector<int64_t> preactivation_sizes() const override { return sizes_; }
  std::string input_grad_refusal() const override {
    return o_.surrogate != "none" ? "" : "model.surrogate is none: a Heaviside spike has no input gradient, so a "
           "gradient attack would be a no-op; train with model.surrogate=sigmoid|atan (LR and ES never use it), or "
           "attack by transfer (lrbench eval RUN --source OTHER_RUN)";
  }

  // Logits [m*B, K] of `m` copy-major copies of the batch (the readout's: see the top of this file).
  torch::Tensor forward_copies(const Batch& b, int64_t m) override {
    TORCH_CHECK(b.x.dim() >= 2, "snn: expects images [B, C, H, W] (or [B, F])");
    auto x = b.x.flatten(1);
    const size_t L = fc_.size();
    const int64_t T = o_.steps;
    // host: the key is read once per forward
    auto code = encoding_key_.defined() ? poisson_spikes(x, T, static_cast<uint64_t>(encoding_key_.item<int64_t>()))
                                        : torch::Tensor();
    // Without a hook the first layer's currents are computed at once: one product (current coding: the same
    // at every step) or one for all steps' spikes.
    torch::Tensor first;
    if (!layer_hook)
      first = code.defined() ? fc_[0]->forward(code.view({T * x.size(0), -1})).view({T, x.size(0), -1})
                             : tile_rows(fc_[0]->forward(x), m);
    const bool spiking_out = o_.readout != "membrane";
    std::vector<torch::Tensor> u(L), s(L);
    torch::Tensor count;
    for (int64_t t = 0; t < T; ++t) {
      auto xt = code.defined() ? code[t] : x;
      torch::Tensor in = layer_hook ? call_layer_shared(0, fc_[0], xt, m) : code.defined() ? tile_rows(first[t], m) : first;
      for (size_t l = 0; l < L; ++l) {
        if (l > 0) in = call_layer(static_cast<int>(l), fc_[l], s[l - 1]);
        if (l + 1 == L && !spiking_out) {
          u[l] = t == 0 ? in : u[l] * o_.decay + in;
        } else {
          u[l] = t == 0 ? in : u[l] * (1 - s[l]) * o_.decay + in;
          s[l] = spike(u[l] - o_.threshold);
        }
      }
      if (o_.readout == "spike-count") count = t == 0 ? s[L - 1] : count + s[L - 1];
    }
    return o_.readout == "membrane" ? u[L - 1] : o_.readout == "spikes" ? s[L - 1] : count;
  }

  // The paper's LR setting (logit noise on every layer's input current), σ0 and copies from probes (see the
  // experiments' profiles); the same for lr-l and lr-wl.
  std::optional<LrPreset> lr_preset(const std::string&) const override {
    const size_t n = sites_.size();
    return LrPreset{std::vector<std::string>(n, "logit"), std::vector<int64_t>(n, 100), std::vector<double>(n, 0.1)};
  }

 private:
  // H(v) in value; under autograd, the surrogate's derivative (straight-through: g − g.detach() is exactly 0).
  torch::Tensor spike(const torch::Tensor& v) const {
    auto s = v.ge(0).to(v.scalar_type());
    if (o_.surrogate == "none" || !torch::GradMode::is_enabled() || !v.requires_grad()) return s;
    const double a = o_.surrogate_slope;
    auto g = o_.surrogate == "sigmoid" ? torch::sigmoid(v * a) : torch::atan(v * (M_PI / 2 * a)) / M_PI;
    return s + (g - g.detach());
  }

  SnnOptions o_;
  torch::Tensor encoding_key_;  // poisson encoding only
  std::vector<torch::nn::Linear> fc_;
  std::vector<PerturbableLayer> sites_;
  std::vector<int64_t> sizes_;
};
TORCH_MODULE(Snn);

LRB_REGISTER(ClassifierImpl, "snn",
             "spiking LIF MLP run for `steps` steps: image as constant current or Poisson spikes, readout = output membrane, "
             "spike count or last spikes (hidden, steps, decay, threshold, surrogate, surrogate_slope, readout, encoding)",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               return std::make_shared<SnnImpl>(SnnOptions::from(c), ctx);
             });

}  // namespace lrb
