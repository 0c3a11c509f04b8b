// AutoAttack's L-inf attacks as plugins (Croce & Hein 2020; fra31/auto-attack, commit a392200):
//   apgd-ce     APGD on the cross-entropy (autopgd_base.py APGDAttack, loss 'ce'; `loss: dlr` for APGD-DLR)
//   apgd-t      targeted APGD on the DLR loss (APGDAttack_targeted, n_target_classes 9)
//   square      Square attack, score-based, no gradient (square.py SquareAttack, margin loss)
//   autoattack  AutoAttack's "standard" version without FAB-T: APGD-CE, then APGD-T, then Square, each
//               only on the examples every earlier attack left correct; an example counts as robust only if
//               it survives all three (the worst case per example). FAB-T is left out as the issue asks; on
//               RobustBench models it changes robust accuracy by at most a few hundredths of a percent.
// Defaults are AutoAttack's: n_iter 100, 1 restart, rho 0.75, Square 5000 queries, p_init 0.8. Each file of
// the engine (apgd.h, square.h) states its deviations; the main one: the random stream is the evaluator's
// per-threat generator, not torch's global generator re-seeded by every call.
#include <fmt/format.h>

#include <utility>

#include "core/registry.h"
#include "threats/attacks/apgd.h"
#include "threats/attacks/linf.h"
#include "threats/attacks/square.h"
#include "threats/victim.h"

namespace lrb {

namespace {

// Refusals shared by the four: images [C,H,W] for Square, enough classes for the DLR losses. `fix` is what the
// user can change.
void check_square_data(const std::string& key, const ThreatContext& ctx) {
  if (ctx.input.shape.size() != 3)
    throw ConfigError(fmt::format("{}: Square needs images [C,H,W], but the dataset's examples have {} dimensions; "
                                  "use apgd-ce on this data", key, ctx.input.shape.size()));
}
void check_classes(const std::string& key, const ThreatContext& ctx, int64_t min_classes, const std::string& why,
                   const std::string& fix) {
  if (ctx.num_classes > 0 && ctx.num_classes < min_classes)
    throw ConfigError(fmt::format("{}: {} needs at least {} classes, the dataset has {}; {}", key, why, min_classes,
                                  ctx.num_classes, fix));
}
// What lowers APGD-T's need: fewer targets, unless the DLR loss itself (4 classes) is the limit.
std::string targets_fix(const ThreatContext& ctx, const std::string& other) {
  return ctx.num_classes >= 4 ? fmt::format("set threat.n_target_classes to at most {}, or use {}", ctx.num_classes - 1, other)
                              : "use " + other + " (the targeted DLR loss needs 4 classes)";
}

class ApgdCe : public Attack {
 public:
  explicit ApgdCe(const Config& c) {
    c.has("name");
    o_.read(c, /*targeted=*/false);
    c.read_choice("loss", loss_, {"ce", "dlr"});
  }
  std::string key() const override { return "apgd-ce"; }
  std::string metric() const override { return loss_ == "ce" ? "APGD-CE" : "APGD-DLR"; }
  std::string params() const override { return o_.params(false) + ";loss=" + loss_; }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }
  void check(const ThreatContext& ctx) const override {
    if (loss_ == "dlr")
      check_classes(key(), ctx, 3, "the DLR loss (largest minus third-largest logit)", "set threat.loss: ce");
  }
  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override {
    return apgd::untargeted(victim, clean, loss_, o_, gen);
  }

 private:
  apgd::Options o_;
  std::string loss_ = "ce";
};

class ApgdT : public Attack {
 public:
  explicit ApgdT(const Config& c) {
    c.has("name");
    o_.read(c, /*targeted=*/true);
  }
  std::string key() const override { return "apgd-t"; }
  std::string metric() const override { return "APGD-T"; }
  std::string params() const override { return o_.params(true); }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }
  void check(const ThreatContext& ctx) const override {
    check_classes(key(), ctx, std::max<int64_t>(4, o_.n_target_classes + 1),
                  fmt::format("the targeted DLR loss with n_target_classes {}", o_.n_target_classes),
                  targets_fix(ctx, "apgd-ce"));
  }
  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override {
    return apgd::targeted(victim, clean, o_, gen);
  }

 private:
  apgd::Options o_;
};

class Square : public Attack {
 public:
  explicit Square(const Config& c) {
    c.has("name");
    o_.read(c);
  }
  std::string key() const override { return "square"; }
  std::string metric() const override { return "Square"; }
  std::string params() const override { return o_.params(); }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return false; }
  void check(const ThreatContext& ctx) const override { check_square_data(key(), ctx); }
  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override {
    return square::perturb(victim, clean, o_, gen);
  }

 private:
  square::Options o_;
};

class AutoAttack : public Attack {
 public:
  explicit AutoAttack(const Config& c) {
    c.has("name");
    apgd_.read(c, /*targeted=*/true);
    square_.read(c);
    square_.eps = apgd_.eps;
  }
  std::string key() const override { return "autoattack"; }
  std::string metric() const override { return "AutoAttack"; }
  std::string params() const override {
    return apgd_.params(true) + ";n_queries=" + std::to_string(square_.n_queries) + ";p_init=" +
           param_number(square_.p_init) + ";rescale_schedule=" + (square_.rescale_schedule ? "true" : "false");
  }
  std::vector<Modality> modalities() const override { return linf::modalities(); }
  bool needs_input_grad() const override { return true; }
  void check(const ThreatContext& ctx) const override {
    check_square_data(key(), ctx);
    check_classes(key(), ctx, std::max<int64_t>(4, apgd_.n_target_classes + 1),
                  fmt::format("its APGD-T stage with n_target_classes {}", apgd_.n_target_classes),
                  targets_fix(ctx, "apgd-ce and square alone"));
  }
  // Each stage sees only the rows still correct, as in AutoAttack's run_standard_evaluation; the stages draw
  // from one stream where the reference re-seeds each (so its composition is compared within a tolerance).
  Batch perturb(Victim& victim, const Batch& clean, at::Generator& gen) override {
    auto adv = clean.x.detach().clone();
    auto robust = apgd::still_correct(victim, clean, clean.x);
    auto stage = [&](auto&& attack) {
      linf::attack_robust_rows(clean, adv, robust, [&](const Batch& sub) {
        auto x = attack(sub).x;
        return std::pair{x, apgd::still_correct(victim, sub, x).logical_not()};
      });
    };
    stage([&](const Batch& b) { return apgd::untargeted(victim, b, "ce", apgd_, gen); });
    stage([&](const Batch& b) { return apgd::targeted(victim, b, apgd_, gen); });
    stage([&](const Batch& b) { return square::perturb(victim, b, square_, gen); });
    return linf::with_x(clean, adv);
  }

 private:
  apgd::Options apgd_;
  square::Options square_;
};

}  // namespace

LRB_REGISTER(Attack, "apgd-ce", "AutoAttack's APGD, L-inf, cross-entropy (or loss: dlr), step-size schedule + momentum (Croce & Hein 2020)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<ApgdCe>(c); });
LRB_REGISTER(Attack, "apgd-t", "AutoAttack's targeted APGD on the DLR loss, L-inf, 9 target classes (Croce & Hein 2020)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<ApgdT>(c); });
LRB_REGISTER(Attack, "square", "Square attack: score-based random search, no gradient, L-inf (Andriushchenko 2020; AutoAttack's square.py)",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<Square>(c); });
LRB_REGISTER(Attack, "autoattack", "AutoAttack standard (APGD-CE -> APGD-T -> Square, worst case per example), L-inf",
             [](const Config& c) -> Attack::Ptr { return std::make_unique<AutoAttack>(c); });

}  // namespace lrb
