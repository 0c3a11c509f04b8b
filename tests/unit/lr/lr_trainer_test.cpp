// LR/ES trainers through the registry: estimate quality against BP, variance reduction, presets and
// config errors, Sobol noise, the gradient probe, and the proof that nothing back-propagates.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/registry.h"
#include "models/classifier.h"
#include "tests/unit/lr/tiny_models.h"
#include "trainers/lr/engine.h"
#include "trainers/lr/gradcheck.h"
#include "trainers/lr/lr_trainer.h"
#include "trainers/lr/noise.h"

namespace lrb::lr {
namespace {

Config yaml(const std::string& text) { return Config(parse_yaml_string(text, "test"), "trainer"); }

ClassifierImpl::Ptr make_model(const std::string& text, std::vector<int64_t> shape, int64_t classes = 10) {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = std::move(shape);
  ctx.num_classes = classes;
  return Registry<ClassifierImpl>::get().make(Config(parse_yaml_string(text, "test"), "model"), ctx);
}

Trainer::Ptr make_trainer(const std::string& text, ClassifierImpl& model) {
  auto t = Registry<Trainer>::get().make(yaml(text));
  t->attach(model);
  return t;
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.flatten().dot(b.flatten()) / (a.norm() * b.norm())).item<double>();
}

// Exact gradient of every parameter (autograd: the reference only).
std::vector<torch::Tensor> bp(ClassifierImpl& m, const Batch& b) {
  m.zero_grad();
  torch::nn::functional::cross_entropy(m.forward(b), b.y).backward();
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.grad().clone());
  m.zero_grad();
  return out;
}

TEST(LrQuality, LastLayerCosineAbove09At1000Copies) {
  auto model = make_model("name: mlp\nhidden: [32]\nactivation: tanh", {1, 4, 4});
  auto b = test::tiny_batch({1, 4, 4}, 32, 10, 1, torch::kFloat);
  auto exact = bp(*model, b);
  auto t = make_trainer("name: lr-l\ncopies: 1000", *model);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  t->estimate_grad(*model, b, gen);
  auto params = model->parameters();  // fc0.weight, fc0.bias, fc1.weight, fc1.bias
  const double c = cosine(torch::cat({params[2].grad().flatten(), params[3].grad().flatten()}),
                          torch::cat({exact[2].flatten(), exact[3].flatten()}));
  EXPECT_GT(c, 0.9);
}

// Mean squared error of `repeats` estimates of the hidden layer (logit noise, σ = 0.1) around BP.
double mse(ClassifierImpl& model, const Batch& b, const std::string& extra, int repeats) {
  auto exact = bp(model, b);
  auto t = make_trainer("name: lr-l\nmodes: [logit, none]\ncopies: 50\n" + extra, model);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  double sum = 0;
  for (int r = 0; r < repeats; ++r) {
    t->estimate_grad(model, b, gen);
    sum += (model.parameters()[0].grad() - exact[0]).square().sum().item<double>();
  }
  return sum / repeats;
}

TEST(LrQuality, AntitheticAndBaselineReduceVariance) {
  auto model = make_model("name: mlp\nhidden: [16]\nactivation: tanh", {1, 4, 4});
  auto b = test::tiny_batch({1, 4, 4}, 16, 10, 4, torch::kFloat);
  const double plain = mse(*model, b, "antithetic: false\nbaseline: none", 20);
  const double anti = mse(*model, b, "antithetic: true\nbaseline: none", 20);
  const double clean = mse(*model, b, "antithetic: false\nbaseline: clean-loss", 20);
  // Without either, L·ε/σ carries the loss itself (~2.3) over σ = 0.1: the error must drop by >10x.
  EXPECT_LT(anti * 10, plain) << "antithetic " << anti << " vs plain " << plain;
  EXPECT_LT(clean * 10, plain) << "clean-loss baseline " << clean << " vs none " << plain;
}

TEST(LrTrainers, NeverBackPropagate) {
  auto model = make_model("name: mlp\nhidden: [8]\nactivation: relu", {1, 4, 4});
  auto b = test::tiny_batch({1, 4, 4}, 8, 10, 5, torch::kFloat);
  int fired = 0;
  for (auto& p : model->parameters()) p.register_hook([&fired](torch::Tensor g) { ++fired; return g; });
  // Positive control: a real backward does fire the hooks.
  torch::nn::functional::cross_entropy(model->forward(b), b.y).backward();
  ASSERT_GT(fired, 0);
  fired = 0;
  model->zero_grad();
  // The MLP's own LR-WL is logit noise everywhere (the rule), so weight noise is asked for explicitly.
  for (const char* cfg : {"name: lr-wl", "name: lr-wl\nmodes: [weight, logit]", "name: lr-l\nlearn_sigma: true",
                          "name: lr-wl\nlayerwise: false\nmodes: [weight, logit]",
                          "name: lr-wl\nnoise: sobol", "name: es\npopulation: 20"}) {
    auto t = make_trainer(cfg, *model);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
    auto st = t->estimate_grad(*model, b, gen);
    EXPECT_EQ(fired, 0) << cfg << ": a parameter hook fired, so something back-propagated";
    EXPECT_GT(st.forward_rows, b.size()) << cfg;
    for (auto& p : model->parameters()) {
      ASSERT_TRUE(p.grad().defined()) << cfg;
      EXPECT_FALSE(p.grad().requires_grad()) << cfg;
      EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << cfg;
    }
  }
}

TEST(LrTrainers, ResNet5PresetsFollowThePaper) {
  auto model = make_model("name: resnet5", {3, 32, 32});
  auto wl = make_trainer("name: lr-wl", *model);
  const auto& s = dynamic_cast<LrTrainer&>(*wl).settings();
  std::vector<Mode> modes{Mode::kWeight, Mode::kWeight, Mode::kLogit, Mode::kLogit, Mode::kLogit};
  std::vector<int64_t> copies{100, 200, 200, 100, 50};
  for (int l = 0; l < 5; ++l) {
    EXPECT_EQ(s.layers[l].mode, modes[l]) << l;
    EXPECT_EQ(s.layers[l].copies, copies[l]) << l;
    EXPECT_DOUBLE_EQ(s.layers[l].sigma0, l < 2 ? 1e-3 : 1e-1) << l;
  }
  auto l = make_trainer("name: lr-l\nsigma: 0.05\ncopies: 30", *model);
  for (const auto& ls : dynamic_cast<LrTrainer&>(*l).settings().layers) {
    EXPECT_EQ(ls.mode, Mode::kLogit);
    EXPECT_EQ(ls.copies, 30);
    EXPECT_DOUBLE_EQ(ls.sigma0, 0.05);
  }
}

TEST(LrTrainers, Vgg8PresetsFollowThePaper) {
  auto model = make_model("name: vgg8", {3, 32, 32});
  auto wl = make_trainer("name: lr-wl", *model);
  const auto& s = dynamic_cast<LrTrainer&>(*wl).settings();
  std::vector<int64_t> copies{100, 200, 400, 800, 400, 200, 100, 50};
  ASSERT_EQ(s.layers.size(), 8u);
  for (int l = 0; l < 8; ++l) {
    EXPECT_EQ(s.layers[l].mode, l < 4 ? Mode::kWeight : Mode::kLogit) << l;
    EXPECT_EQ(s.layers[l].copies, copies[l]) << l;
    EXPECT_DOUBLE_EQ(s.layers[l].sigma0, l < 4 ? 1e-3 : 1e-2) << l;
  }
  auto l = make_trainer("name: lr-l", *model);
  for (const auto& ls : dynamic_cast<LrTrainer&>(*l).settings().layers) {
    EXPECT_EQ(ls.mode, Mode::kLogit);
    EXPECT_DOUBLE_EQ(ls.sigma0, 1e-2);
  }
  // Quick profiles divide the preset copies, keeping antithetic pairs.
  auto div = make_trainer("name: lr-wl\ncopies_divisor: 10", *model);
  const auto& d = dynamic_cast<LrTrainer&>(*div).settings();
  std::vector<int64_t> divided{10, 20, 40, 80, 40, 20, 10, 6};
  for (int l = 0; l < 8; ++l) EXPECT_EQ(d.layers[l].copies, divided[l]) << l;
}

// The rule behind the hybrid: weight noise only where a layer has fewer parameters than pre-activations.
TEST(LrTrainers, AutoModeAppliesTheWeightVsLogitRule) {
  auto mlp = make_model("name: mlp\nhidden: [256]", {1, 28, 28});
  auto on_mlp = make_trainer("name: lr-wl", *mlp);
  for (const auto& ls : dynamic_cast<LrTrainer&>(*on_mlp).settings().layers)
    EXPECT_EQ(ls.mode, Mode::kLogit);  // 784x256 weights vs 256 outputs: logit noise (the MLP has no preset)
  auto resnet = make_model("name: resnet5", {3, 32, 32});
  auto rule = make_trainer("name: lr-wl\nmodes: [auto]", *resnet);
  const auto& s = dynamic_cast<LrTrainer&>(*rule).settings();
  // conv0 224 < 8192, conv1 1168 < 16384, conv2 4640 < 8192 params vs pre-activations; conv3 9248 > 8192; fc.
  std::vector<Mode> expected{Mode::kWeight, Mode::kWeight, Mode::kWeight, Mode::kLogit, Mode::kLogit};
  for (int l = 0; l < 5; ++l) {
    EXPECT_EQ(s.layers[l].mode, expected[l]) << l;
    EXPECT_DOUBLE_EQ(s.layers[l].sigma0, l < 2 ? 1e-3 : l == 2 ? 1e-3 : 1e-1) << l;
  }
}

TEST(LrTrainers, ConfigErrorsNameTheKey) {
  auto model = make_model("name: resnet5", {3, 32, 32});
  EXPECT_THROW(make_trainer("name: lr-wl\ncopies: [1, 2, 3]", *model), ConfigError);
  EXPECT_THROW(Registry<Trainer>::get().make(yaml("name: lr-wl\nmodes: [logit, wieght]")), ConfigError);
  EXPECT_THROW(Registry<Trainer>::get().make(yaml("name: lr-l\nbaseline: mean")), ConfigError);
  EXPECT_THROW(Registry<Trainer>::get().make(yaml("name: es\nsigma: -1")), ConfigError);
  try {
    make_trainer("name: lr-wl\nsigma: [1, 2]", *model);
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("trainer.sigma"), std::string::npos) << e.what();
  }
}

TEST(LrNoise, SobolIsStandardNormalFiniteAndSeeded) {
  const int64_t dim = SobolSequence::kMaxDim + 100;  // two dimension blocks
  NoiseSource a(Source::kSobol, dim, 9, 1, torch::kFloat), b(Source::kSobol, dim, 9, 1, torch::kFloat);
  auto x = torch::cat({a.per_copy(0, 1), a.per_copy(1, 255)});
  EXPECT_TRUE(torch::equal(x, torch::cat({b.per_copy(0, 200), b.per_copy(200, 56)})));  // same key, same points
  // Rows are points copy * rows_per_copy + row: any sub-block is the same points, in either layout.
  NoiseSource r(Source::kSobol, 7, 9, 16, torch::kFloat);
  auto whole = r.rows(0, 4, 0, 16, false);  // [4 copies, 16 rows, 7]
  EXPECT_TRUE(torch::equal(r.rows(1, 2, 5, 9, true), whole.slice(0, 1, 3).slice(1, 5, 9).transpose(0, 1)));
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
  // 256 scrambled Sobol points: per-dimension means within 0.1 of 0 on average, variance within 0.1 of 1.
  EXPECT_LT(x.mean(0).abs().mean().item<double>(), 0.1);
  EXPECT_LT((x.var(0) - 1).abs().mean().item<double>(), 0.1);
}

// Our word-parallel Sobol scramble and draw reproduce ATen's ops (as torch.quasirandom.SobolEngine
// uses them) exactly, apart from our half-cell offset that keeps uniforms off 0.
TEST(LrNoise, SobolMatchesAtenEngine) {
  const int64_t D = 40, n = 300;
  auto g = at::make_generator<at::CPUGeneratorImpl>(3);
  auto ltm = at::randint(2, {D, 30, 30}, g, torch::kLong).tril();
  auto shift = torch::mv(at::randint(2, {D, 30}, g, torch::kLong), torch::pow(2, torch::arange(30, torch::kLong)));
  auto state = torch::zeros({D, 30}, torch::kLong);
  at::_sobol_engine_initialize_state_(state, D);
  at::_sobol_engine_scramble_(state, ltm, D);
  auto [rest, quasi] = at::_sobol_engine_draw(shift.clone(), n - 1, state, D, 0, torch::kDouble);
  auto ref = torch::cat({(shift.to(torch::kDouble) / (1 << 30)).view({1, -1}), rest});

  auto diag = ltm.clone();
  diag.diagonal(0, -2, -1).fill_(1);
  auto rows = (diag * torch::pow(2, torch::arange(29, -1, -1, torch::kLong))).sum(-1).contiguous();
  SobolSequence seq(D, std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel()),
                    std::vector<int64_t>(shift.data_ptr<int64_t>(), shift.data_ptr<int64_t>() + D));
  auto mine = torch::empty({n, D}, torch::kDouble);
  seq.uniform(0, 100, mine.data_ptr<double>());
  seq.uniform(100, n - 100, mine.data_ptr<double>() + 100 * D);
  EXPECT_TRUE(torch::equal(mine - 0.5 / (1 << 30), ref));
  EXPECT_NEAR(inverse_normal_cdf(0.975), 1.959963985, 1e-8);
  EXPECT_NEAR(inverse_normal_cdf(1e-9), -5.997807015, 1e-6);
}

TEST(LrGradcheck, TableHasEveryLayerCopyRepeatAndImproves) {
  auto model = make_model("name: mlp\nhidden: [16]\nactivation: tanh", {1, 4, 4});
  auto b = test::tiny_batch({1, 4, 4}, 16, 10, 7, torch::kFloat);
  auto t = make_trainer("name: lr-wl", *model);
  GradcheckSpec spec;
  spec.copies = {10, 1000};
  spec.repeats = 2;
  spec.panel = "x";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
  auto table = gradcheck(*model, *t, b, spec, gen);
  ASSERT_EQ(table.rows().size(), 2u * 2u * 2u);
  EXPECT_EQ(table.header()[7], "cosine");
  for (const auto& r : table.rows()) {
    if (r[1] == "fc1" && r[5] == "1000") {
      EXPECT_GT(std::stod(r[7]), 0.9) << "fc1 at 1000 copies";
    }
  }
}

TEST(Es, GradientPointsAlongBp) {
  auto model = make_model("name: mlp\nhidden: [8]\nactivation: tanh", {1, 2, 2}, 3);
  auto b = test::tiny_batch({1, 2, 2}, 16, 3, 10, torch::kFloat);
  auto exact = bp(*model, b);
  auto t = make_trainer("name: es\npopulation: 2000\nsigma: 0.01", *model);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  t->estimate_grad(*model, b, gen);
  std::vector<torch::Tensor> est, ref;
  for (size_t i = 0; i < exact.size(); ++i) {
    est.push_back(model->parameters()[i].grad().flatten());
    ref.push_back(exact[i].flatten());
  }
  // 67 parameters, 1000 antithetic pairs: the centred-rank estimate is well aligned with the gradient.
  EXPECT_GT(cosine(torch::cat(est), torch::cat(ref)), 0.8);
}

}  // namespace
}  // namespace lrb::lr

namespace lrb::lr {
namespace {

// eval.noise: on — the trainer's noise at inference. On ResNet-5 with the LR-WL preset (weight noise on conv0
// and conv1, logit noise on the rest): every pass differs, autograd reaches the input through the noise, the
// noise has the trained σ (the output's spread over passes shrinks with σ), and ES has none.
TEST(LrTrainers, InferenceNoiseIsTheTrainedNoise) {
  auto model = make_model("name: resnet5", {3, 32, 32});
  auto& lm = dynamic_cast<LayeredModel&>(*model);
  auto b = Batch{};
  b.x = torch::rand({4, 3, 32, 32});
  b.y = torch::zeros({4}, torch::kLong);
  torch::Tensor clean;
  {
    torch::NoGradGuard no_grad;
    clean = model->forward(b);
  }
  auto spread = [&](const std::string& trainer_yaml) {
    auto t = make_trainer(trainer_yaml, *model);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    lm.layer_hook = t->inference_noise(*model, gen);
    EXPECT_TRUE(static_cast<bool>(lm.layer_hook));
    torch::NoGradGuard no_grad;
    auto a = model->forward(b), c = model->forward(b);
    lm.layer_hook = nullptr;
    EXPECT_FALSE(torch::equal(a, c)) << "two noisy passes gave the same logits";
    return (a - clean).abs().mean().item<double>();
  };
  const double big = spread("name: lr-wl"), small = spread("name: lr-wl\nsigma: 0.00001");
  EXPECT_GT(big, 10 * small) << "the preset's sigma vs 1e-5 at every site, same modes";
  // At a vanishing sigma the noisy sites are the clean ones: the weight-noise convolution (conv0, conv1 in this
  // preset) uses the module's stride, padding, dilation and groups.
  EXPECT_LT(small, 1e-3) << "a weight-noise site does not compute its layer";
  // Gradients flow to the input through the noisy sites.
  auto t = make_trainer("name: lr-wl", *model);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  lm.layer_hook = t->inference_noise(*model, gen);
  auto x = b.x.clone().requires_grad_(true);
  Batch bx = b;
  bx.x = x;
  auto g = torch::autograd::grad({model->forward(bx).sum()}, {x})[0];
  lm.layer_hook = nullptr;
  EXPECT_GT(g.abs().sum().item<double>(), 0);
  auto es = Registry<Trainer>::get().make(yaml("name: es"));  // (BP: the Trainer default, also empty)
  es->attach(*model);
  EXPECT_FALSE(static_cast<bool>(es->inference_noise(*model, gen)));
}

}  // namespace
}  // namespace lrb::lr
