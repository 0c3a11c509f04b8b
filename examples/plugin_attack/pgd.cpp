// pgd: projected gradient descent with a random start (Madry et al. 2018), an L-inf attack in [0,1] pixel
// space, as torchattacks 3.5.1 attacks/pgd.py (untargeted): x' = clamp(x + U(-eps, eps), 0, 1), then `steps`
// times x' = clamp(x + clamp(x' + alpha * sign(dL/dx') - x, -eps, eps), 0, 1). Defaults are torchattacks'
// (eps 8/255, alpha 2/255, 10 steps, random start). Unlike I-FGSM the random start makes the result depend on
// the generator the evaluator passes in (seeded per batch from eval.seed), so runs stay reproducible.
//
// An example of an out-of-tree plugin: one file, one LRB_REGISTER line, built against the installed lrbench
// package (CMakeLists.txt beside it) and loaded with `lrbench --plugin liblrbench_pgd.so ...`.
#include <torch/torch.h>

#include "core/registry.h"
#include "threats/threat.h"
#include "threats/victim.h"

namespace {

using namespace lrb;

class Pgd : public Attack {
 public:
  explicit Pgd(const Config& c) {
    c.has("name");
    c.read("eps", eps_, Range::between(0.0, 1.0));
    c.read("alpha", alpha_, Range::between(0.0, 1.0));
    c.read("steps", steps_, Range::between(1, 100000));
    c.read("random_start", random_start_);
  }

  std::string key() const override { return "pgd"; }
  std::string metric() const override { return "PGD"; }
  std::string params() const override {
    return "eps=" + param_number(eps_) + ";alpha=" + param_number(alpha_) + ";steps=" + std::to_string(steps_) +
           ";random_start=" + (random_start_ ? "true" : "false");
  }
  std::vector<Modality> modalities() const override { return {Modality::kImage, Modality::kSpike}; }
  bool needs_input_grad() const override { return true; }

  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override {
    const auto x = clean.x.detach();
    auto adv = x.clone();
    if (random_start_) {
      auto u = torch::empty_like(x).uniform_(-eps_, eps_, gen);
      adv = torch::clamp(adv + u, 0.0, 1.0);
    }
    Batch step = clean;
    for (int64_t i = 0; i < steps_; ++i) {
      step.x = adv;
      auto g = victim.input_grad(step);
      adv = adv + alpha_ * g.sign();
      adv = torch::clamp(x + torch::clamp(adv - x, -eps_, eps_), 0.0, 1.0).detach();
    }
    Batch out = clean;
    out.x = adv;
    return out;
  }

 private:
  double eps_ = 8.0 / 255.0, alpha_ = 2.0 / 255.0;
  int64_t steps_ = 10;
  bool random_start_ = true;
};

LRB_REGISTER(Attack, "pgd", "L-inf PGD with random start (Madry 2018; torchattacks PGD) -- example plugin",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<Pgd>(c); });

}  // namespace
