// Exact values: the attacks against torchattacks' formulas (golden_attacks.h, from tools/golden_attacks.py),
// MI-FGSM's zero-gradient behaviour, and each corruption's formula with hand-made draws.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "tests/unit/threats/golden_attacks.h"
#include "tests/unit/threats/threat_test_util.h"
#include "threats/victim.h"

using namespace lrb;
using namespace lrb::test;

namespace {

torch::Tensor doubles(const double* v, int64_t n) {
  return torch::from_blob(const_cast<double*>(v), {n}, torch::kDouble).clone();
}

// The fixed linear model of golden_attacks.h, in float32 like torchattacks' images.
class GoldenLinear : public TestModel {
 public:
  GoldenLinear() {
    using namespace golden;
    const int64_t d = kC * kH * kW;
    mean_ = register_buffer("mean", doubles(kMean, kC).to(torch::kFloat).view({1, kC, 1, 1}));
    std_ = register_buffer("std", doubles(kStd, kC).to(torch::kFloat).view({1, kC, 1, 1}));
    w_ = register_parameter("weight", doubles(kWeight, kK * d).to(torch::kFloat).view({kK, d}));
    b_ = register_parameter("bias", doubles(kBias, kK).to(torch::kFloat));
  }
  torch::Tensor forward(const Batch& b) override {
    return torch::nn::functional::linear(((b.x - mean_) / std_).flatten(1), w_, b_);
  }
  torch::Tensor mean_, std_, w_, b_;
};

// Two classes, logits [gate * sum(x), 0] with gate = [sum(x) > 1.9] (no gradient through the gate): an
// example whose pixel sum falls below 1.9 has an exactly zero input gradient from then on.
class GatedModel : public TestModel {
 public:
  torch::Tensor forward(const Batch& b) override {
    auto s = b.x.flatten(1).sum(1);
    auto gate = s.gt(1.9).to(s.scalar_type());
    return torch::stack({gate * s, torch::zeros_like(s)}, 1);
  }
};

Batch image(std::vector<double> pixels, std::vector<int64_t> shape) {
  Batch b;
  b.x = torch::tensor(pixels, torch::kDouble).view(shape).to(torch::kFloat);
  b.y = torch::zeros({shape[0]}, torch::kLong);
  return b;
}

void expect_near(const torch::Tensor& got, std::vector<double> want, double atol = 1e-6) {
  auto w = torch::tensor(want, torch::kDouble).view(got.sizes());
  EXPECT_TRUE(torch::allclose(got.to(torch::kDouble), w, 0.0, atol))
      << "max |diff| " << (got.to(torch::kDouble) - w).abs().max().item<double>() << "\ngot\n" << got;
}

}  // namespace

TEST(AttackValues, MatchTorchattacksFormulas) {
  using namespace golden;
  GoldenLinear model;
  Batch clean;
  clean.x = doubles(kX, kB * kC * kH * kW).to(torch::kFloat).view({kB, kC, kH, kW});
  clean.y = torch::tensor(std::vector<int64_t>(kY, kY + kB), torch::kLong);
  for (const auto& c : kCases) {
    auto attack = make_as<Attack>(c.yaml);
    auto gen = make_generator(0);
    Victim victim(model);
    auto adv = attack->perturb(victim, clean, gen).x;
    auto want = doubles(c.expected, kB * kC * kH * kW).view(adv.sizes());
    auto diff = (adv.to(torch::kDouble) - want).abs().max().item<double>();
    EXPECT_LE(diff, 1e-6) << c.yaml;
  }
}

TEST(AttackValues, DefaultsAreThePapersBudget) {
  const std::string eps = "eps=" + param_number(8.0 / 255.0), alpha = ";alpha=" + param_number(2.0 / 255.0);
  EXPECT_EQ(eps, "eps=0.03137254901960784");
  EXPECT_EQ(make_threat(threat_cfg("name: fgsm"))->params(), eps);
  EXPECT_EQ(make_threat(threat_cfg("name: i-fgsm"))->params(), eps + alpha + ";steps=5");
  EXPECT_EQ(make_threat(threat_cfg("name: mi-fgsm"))->params(), eps + alpha + ";steps=5;decay=1;zero_guard=1e-12");
  EXPECT_EQ(make_threat(threat_cfg("name: gaussian"))->params(), "std=0.08");
  EXPECT_EQ(make_threat(threat_cfg("name: uniform"))->params(), "width=0.1");
  EXPECT_EQ(make_threat(threat_cfg("name: poisson"))->params(), "rate=100");
  EXPECT_EQ(make_threat(threat_cfg("name: grey"))->params(), "weights=bt601");
  EXPECT_EQ(make_threat(threat_cfg("name: mask"))->params(), "fraction=0.1;fill=mean");
  std::vector<std::string> metrics;
  for (const auto& k : threat_keys()) metrics.push_back(make_threat(threat_cfg("name: " + k))->metric());
  EXPECT_EQ(metrics, (std::vector<std::string>{"APGD-CE", "APGD-T", "AutoAttack", "DICE", "FGSM", "GA", "Gaussian", "Grey",
                                                "I-FGSM", "RanMask", "MI-FGSM", "Poisson", "PWWS", "RA", "Shuffle", "Square",
                                                "Uniform", "RanMask"}));
  // AutoAttack's defaults (autoattack.py, standard version): 100 iterations, 1 restart, 9 targets, 5000 queries.
  EXPECT_EQ(make_threat(threat_cfg("name: apgd-ce"))->params(), eps + ";n_iter=100;n_restarts=1;rho=0.75;early_stop=true;loss=ce");
  EXPECT_EQ(make_threat(threat_cfg("name: apgd-t"))->params(), eps + ";n_iter=100;n_restarts=1;rho=0.75;early_stop=true;n_target_classes=9");
  EXPECT_EQ(make_threat(threat_cfg("name: square"))->params(),
            eps + ";n_queries=5000;p_init=0.8;n_restarts=1;rescale_schedule=false");
  EXPECT_EQ(make_threat(threat_cfg("name: autoattack"))->params(),
            eps + ";n_iter=100;n_restarts=1;rho=0.75;early_stop=true;n_target_classes=9;n_queries=5000;p_init=0.8;rescale_schedule=false");
  EXPECT_EQ(make_threat(threat_cfg("name: random-edge"))->params(), "rate=0.1;type=add");
  EXPECT_EQ(make_threat(threat_cfg("name: dice"))->params(), "rate=0.1");
  EXPECT_EQ(make_threat(threat_cfg("name: word-mask"))->params(), "fraction=0.9;token=unk");
  EXPECT_EQ(make_threat(threat_cfg("name: shuffle"))->params(), "within=sentence;splitter=dataset");
  EXPECT_EQ(make_threat(threat_cfg("name: pwws"))->params(),
            "max_rate=0.25;min_threshold=1;stopwords=openattack-en;candidates=wordnet-3.0-in-vocab");
  EXPECT_EQ(make_threat(threat_cfg("name: ga"))->params(),
            "max_rate=0.25;pop_size=60;max_iters=20;temp=0.3;min_threshold=1;stopwords=openattack-en;"
            "candidates=wordnet-3.0-in-vocab");
}

// Example 0 (pixels 0.5, sum 2.0) loses its gradient after one step (sum 1.88); example 1 (0.9) keeps it.
TEST(AttackValues, MiFgsmZeroGradientFreezesOnlyInTorchattacksMode) {
  GatedModel model;
  auto clean = image({0.5, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9}, {2, 1, 2, 2});
  const std::string base = "name: mi-fgsm\neps: 0.2\nalpha: 0.03\nsteps: 3\n";
  auto run = [&](const std::string& extra) {
    auto gen = make_generator(0);
    Victim victim(model);
    return make_as<Attack>(base + extra)->perturb(victim, clean, gen).x;
  };
  // zero_guard 0: TA's NaN momentum freezes example 0 after its first step; no NaN reaches the image.
  auto ta = run("zero_guard: 0");
  EXPECT_FALSE(ta.isnan().any().item<bool>());
  expect_near(ta, {0.47, 0.47, 0.47, 0.47, 0.81, 0.81, 0.81, 0.81});
  // Default guard: the zero gradient adds nothing, and the momentum keeps example 0 moving.
  auto guarded = run("");
  expect_near(guarded, {0.41, 0.41, 0.41, 0.41, 0.81, 0.81, 0.81, 0.81});
}

TEST(AttackValues, WorkOnNonImageShapes) {
  // flatten(1) normalisation: a [B, F] spike-rate batch is attacked per example like an image.
  GatedModel model;
  Batch spikes = image({0.5, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9}, {2, 4});
  spikes.modality = Modality::kSpike;
  for (const auto& key : {"fgsm", "i-fgsm", "mi-fgsm"}) {
    auto attack = make_as<Attack>(std::string("name: ") + key);
    EXPECT_TRUE(attack->fits(Modality::kSpike)) << key;
    auto gen = make_generator(0);
    Victim victim(model);
    auto adv = attack->perturb(victim, spikes, gen);
    EXPECT_EQ(adv.modality, Modality::kSpike);
    EXPECT_EQ(adv.x.sizes(), spikes.x.sizes());
    EXPECT_LT(adv.x[1][0].item<double>(), 0.9) << key;
  }
}

// --- corruptions with hand-made draws ----------------------------------------------------------------

TEST(CorruptionValues, AdditiveNoisesAndShotNoiseFollowTheFormulaAndClip) {
  auto clean = image({0.2, 0.5, 0.9, 0.0}, {1, 1, 2, 2});
  auto ctx = image_context();
  auto draws = [](std::vector<double> v) { return torch::tensor(v, torch::kDouble).view({1, 1, 2, 2}); };
  auto g = make_as<Corruption>("name: gaussian\nstd: 0.5");
  expect_near(g->apply(clean, draws({1, -1, 0.4, -0.2}), ctx).x, {0.7, 0.0, 1.0, 0.0});
  auto u = make_as<Corruption>("name: uniform\nwidth: 0.2");
  expect_near(u->apply(clean, draws({1, -1, 0.5, -0.25}), ctx).x, {0.4, 0.3, 1.0, 0.0});
  auto p = make_as<Corruption>("name: poisson\nrate: 10");
  expect_near(p->apply(clean, draws({3, 4, 12, 0}), ctx).x, {0.3, 0.4, 1.0, 0.0});
  EXPECT_THROW(g->apply(clean, torch::Tensor(), ctx), std::invalid_argument);
  EXPECT_THROW(g->apply(clean, torch::zeros({1, 4}), ctx), std::invalid_argument);
}

TEST(CorruptionValues, DrawsHaveTheRightDistribution) {
  Batch one;
  one.x = torch::full({1, 3, 32, 32}, 0.5);
  auto ctx = image_context();
  auto gen = make_generator(3);
  auto n = make_as<Corruption>("name: gaussian")->draw(one, ctx, gen);
  EXPECT_EQ(n.sizes(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_NEAR(n.mean().item<double>(), 0.0, 0.1);
  EXPECT_NEAR(n.std().item<double>(), 1.0, 0.05);
  auto u = make_as<Corruption>("name: uniform")->draw(one, ctx, gen);
  EXPECT_GE(u.min().item<double>(), -1.0);
  EXPECT_LT(u.max().item<double>(), 1.0);
  EXPECT_NEAR(u.mean().item<double>(), 0.0, 0.05);
  auto c = make_as<Corruption>("name: poisson")->draw(one, ctx, gen);  // lambda = 0.5 * 100
  EXPECT_TRUE(torch::equal(c, c.round()));
  EXPECT_NEAR(c.mean().item<double>(), 50.0, 0.6);  // 4.7 standard errors
  one.x[0][0][0][0] = -0.25;                          // below 0: clamped, so lambda stays >= 0
  EXPECT_EQ(make_as<Corruption>("name: poisson")->draw(one, ctx, gen)[0][0][0].item<double>(), 0.0);
}

TEST(CorruptionValues, GreyUsesBt601OrBt709Luma) {
  auto clean = image({0.8, 0.4, 0.2}, {1, 3, 1, 1});
  auto ctx = image_context();
  const double l601 = 0.2989 * 0.8 + 0.587 * 0.4 + 0.114 * 0.2, l709 = 0.2125 * 0.8 + 0.7154 * 0.4 + 0.0721 * 0.2;
  expect_near(make_as<Corruption>("name: grey")->apply(clean, {}, ctx).x, {l601, l601, l601});
  expect_near(make_as<Corruption>("name: grey\nweights: bt709")->apply(clean, {}, ctx).x, {l709, l709, l709});
  auto mono = image({0.8, 0.4}, {1, 1, 1, 2});
  try {
    make_as<Corruption>("name: grey")->apply(mono, {}, ctx);
    FAIL() << "1-channel input accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("RGB"), std::string::npos) << e.what();
  }
}

TEST(CorruptionValues, MaskFillsExactlyTheSquareWithTheMeanColour) {
  auto ctx = image_context();
  Batch clean;
  clean.x = torch::rand({2, 3, 10, 10});
  clean.y = torch::zeros({2}, torch::kLong);
  auto corners = torch::tensor({2, 5, 0, 7}, torch::kLong).view({2, 2});  // side round(sqrt(0.1*100)) = 3
  for (const std::string fill : {"mean", "zero"}) {
    auto out = make_as<Corruption>("name: mask\nfill: " + fill)->apply(clean, corners, ctx).x;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < 10; ++i)
          for (int64_t j = 0; j < 10; ++j) {
            const int64_t ci = corners[b][0].item<int64_t>(), cj = corners[b][1].item<int64_t>();
            const bool in = i >= ci && i < ci + 3 && j >= cj && j < cj + 3;
            const double want = !in ? clean.x[b][c][i][j].item<double>() : fill == "mean" ? ctx.input.mean[c] : 0.0;
            ASSERT_FLOAT_EQ(out[b][c][i][j].item<float>(), static_cast<float>(want))
                << fill << " b" << b << " c" << c << " (" << i << "," << j << ")";
          }
  }
}

TEST(CorruptionValues, MaskCornersCoverTheWholeRangeAndBadSizesAreRefused) {
  auto ctx = image_context();
  auto mask = make_as<Corruption>("name: mask");
  Batch one;
  one.x = torch::rand({1, 3, 32, 32});  // side round(sqrt(102.4)) = 10: corners in 0..22
  int64_t lo = 100, hi = -1;
  for (uint64_t s = 0; s < 400; ++s) {
    auto gen = make_generator(s);
    auto ij = mask->draw(one, ctx, gen);
    ASSERT_EQ(ij.sizes(), (std::vector<int64_t>{2}));
    lo = std::min(lo, ij.min().item<int64_t>());
    hi = std::max(hi, ij.max().item<int64_t>());
  }
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 22);
  auto gen = make_generator(0);
  EXPECT_THROW(make_as<Corruption>("name: mask\nfraction: 1")->draw(one, ctx, gen), ConfigError);
  EXPECT_THROW(make_as<Corruption>("name: mask\nfraction: 0.0001")->draw(one, ctx, gen), ConfigError);
  // The evaluator asks before any work: check() refuses the same sizes from the data's shape alone.
  EXPECT_THROW(make_as<Corruption>("name: mask\nfraction: 1")->check(ctx), ConfigError);
  EXPECT_NO_THROW(make_as<Corruption>("name: mask")->check(ctx));
}
