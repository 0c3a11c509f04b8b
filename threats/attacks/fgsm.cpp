// fgsm: one-step L-inf attack, x_adv = clamp(x + eps * sign(dL/dx), 0, 1).
// Source: Goodfellow et al. 2015; torchattacks 3.5.1 attacks/fgsm.py (untargeted mode), docs/ATTACKS.md §1.1.
// Deviation: none. The gradient is the batch-mean cross-entropy's (TA: reduction='mean'); only its sign
// is used, so the mean does not change the result.
#include "core/registry.h"
#include "threats/attacks/linf.h"
#include "threats/victim.h"

namespace lrb {

class Fgsm : public Attack {
 public:
  struct Options {
    linf::Budget budget;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      o.budget.read(c, /*iterative=*/false);
      return o;
    }
  };
  explicit Fgsm(const Options& o) : o_(o) {}

  std::string key() const override { return "fgsm"; }
  std::string metric() const override { return "FGSM"; }
  std::string params() const override { return o_.budget.params(false); }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }

  Batch perturb(Victim& victim, const Batch& clean, at::Generator&) override {
    auto g = victim.input_grad(clean);
    return linf::with_x(clean, torch::clamp(linf::sign_step(clean.x, g, o_.budget.eps), 0.0, 1.0));
  }

 private:
  Options o_;
};

LRB_REGISTER(Attack, "fgsm", "one-step L-inf sign-gradient attack (Goodfellow 2015; torchattacks FGSM)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<Fgsm>(Fgsm::Options::from(c)); });

}  // namespace lrb
