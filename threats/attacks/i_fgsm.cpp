// i-fgsm: iterative FGSM (Kurakin et al. 2017, "BIM"): `steps` sign steps of size alpha, each projected
// onto the eps-ball around the clean input and into [0,1]. No random start (that would be PGD).
// Source: torchattacks 3.5.1 attacks/bim.py, docs/ATTACKS.md §1.2.
// Deviations: steps defaults to 5, the paper's Table 1 budget ("at most 5 iterations"), where TA's
// default is 10; steps=0 (TA's automatic choice) is not offered. The projection is written as
// x + clamp(x'-x, ±eps) then clamp [0,1], which agrees with TA's max/min form to within 1 ulp.
#include "core/registry.h"
#include "threats/attacks/linf.h"
#include "threats/victim.h"

namespace lrb {

class IFgsm : public Attack {
 public:
  struct Options {
    linf::Budget budget;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      o.budget.read(c, /*iterative=*/true);
      return o;
    }
  };
  explicit IFgsm(const Options& o) : o_(o) {}

  std::string key() const override { return "i-fgsm"; }
  std::string metric() const override { return "I-FGSM"; }
  std::string params() const override { return o_.budget.params(true); }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }

  Batch perturb(Victim& victim, const Batch& clean, at::Generator&) override {
    const auto& b = o_.budget;
    auto x = clean.x.detach();
    for (int64_t k = 0; k < b.steps; ++k) {
      auto g = victim.input_grad(linf::with_x(clean, x));
      x = linf::project(linf::sign_step(x, g, b.alpha), clean.x, b.eps);
    }
    return linf::with_x(clean, x);
  }

 private:
  Options o_;
};

LRB_REGISTER(Attack, "i-fgsm", "iterative L-inf sign-gradient attack, no random start (Kurakin 2017; torchattacks BIM)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<IFgsm>(IFgsm::Options::from(c)); });

}  // namespace lrb
