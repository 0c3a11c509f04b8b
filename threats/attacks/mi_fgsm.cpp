// mi-fgsm: momentum iterative FGSM (Dong et al. 2018). Each step normalises the input gradient by its
// per-example mean |g|, accumulates it into a momentum g_m = decay * g_m + g, and takes a sign step of
// size alpha along g_m, projected onto the eps-ball around the clean input and into [0,1].
// Source: torchattacks 3.5.1 attacks/mifgsm.py, docs/ATTACKS.md §1.3 and §1.5 pitfalls 2 and 5.
// Deviations:
//  * steps defaults to 5 (the paper's Table 1 budget); TA's default is 10.
//  * The mean |g| is taken over all non-batch dims (flatten(1)), not TA's fixed dims (1,2,3), so
//    non-4D inputs (MLP features, spike tensors) are normalised per example too.
//  * zero_guard (default 1e-12) is added to the denominator. TA has none: an example whose gradient is
//    all zero gets 0/0 = NaN momentum, and since sign(NaN) = 0 it never moves again. With zero_guard=0
//    we reproduce that freeze exactly, but deliberately (a sticky per-pixel mask with zero momentum),
//    so no NaN is ever carried, returned or written into the image.
#include "core/registry.h"
#include "threats/attacks/linf.h"
#include "threats/victim.h"

namespace lrb {

class MiFgsm : public Attack {
 public:
  struct Options {
    linf::Budget budget;
    double decay = 1.0;
    double zero_guard = 1e-12;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      o.budget.read(c, /*iterative=*/true);
      c.read("decay", o.decay, Range::at_least(0.0));
      c.read("zero_guard", o.zero_guard, Range::at_least(0.0));
      return o;
    }
  };
  explicit MiFgsm(const Options& o) : o_(o) {}

  std::string key() const override { return "mi-fgsm"; }
  std::string metric() const override { return "MI-FGSM"; }
  std::string params() const override {
    return o_.budget.params(true) + ";decay=" + param_number(o_.decay) + ";zero_guard=" + param_number(o_.zero_guard);
  }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }

  Batch perturb(Victim& victim, const Batch& clean, at::Generator&) override {
    const auto& b = o_.budget;
    auto x = clean.x.detach();
    auto momentum = torch::zeros_like(x);
    auto frozen = torch::zeros_like(x, torch::kBool);  // pixels whose TA momentum would be NaN
    for (int64_t k = 0; k < b.steps; ++k) {
      auto g = victim.input_grad(linf::with_x(clean, x));
      auto scale = g.abs().flatten(1).mean(1);
      std::vector<int64_t> shape(g.dim(), 1);
      shape[0] = g.size(0);
      g = g / (scale + o_.zero_guard).view(shape);
      momentum = o_.decay * momentum + g;
      // NaN stays NaN in TA (NaN * decay + g), so a frozen pixel never moves again.
      frozen = frozen.logical_or(momentum.isnan());
      momentum = momentum.masked_fill(frozen, 0.0);
      x = linf::project(linf::sign_step(x, momentum, b.alpha), clean.x, b.eps);
    }
    return linf::with_x(clean, x);
  }

 private:
  Options o_;
};

LRB_REGISTER(Attack, "mi-fgsm", "momentum iterative L-inf sign-gradient attack (Dong 2018; torchattacks MIFGSM)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<MiFgsm>(MiFgsm::Options::from(c)); });

}  // namespace lrb
