// The LR engine beyond chains of independent rows: sites called once per time step (a recurrent cell:
// fresh logit noise at every call, one weight-noise draw per pass, the per-step terms summed) and the
// coupled rows of a graph (one loss per copy). Each estimate's mean over many repeats must match exact
// autograd (BPTT / full-graph) gradients within its standard error, and the test must see a 10% bias.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/unit/lr/tiny_sites.h"
#include "trainers/lr/engine.h"

namespace lrb::lr {
namespace {

torch::Tensor flat(const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::cat({w.flatten(), b.flatten()}) : w.flatten();
}

// Exact gradient of the clean batch loss (mean over examples, or over a graph's masked nodes).
std::vector<torch::Tensor> exact(torch::nn::Module& m, LayeredModel& lm, const Batch& b) {
  torch::AutoGradMode on(true);
  for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
  auto logits = lm.forward_copies(b, 1);
  torch::nn::functional::cross_entropy(b.select(logits), b.targets()).backward();
  std::vector<torch::Tensor> out;
  for (const auto& l : lm.layers()) out.push_back(flat(l.weight().grad(), l.bias().defined() ? l.bias().grad() : torch::Tensor()));
  for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
  return out;
}

struct Case {
  const char* name;
  bool graph;
  int layer;  // the site estimated layer-wise; -1: every site with a mode, in one pass (joint)
  std::vector<Mode> modes;
  bool per_row = true;
  bool antithetic = true;
  Baseline baseline = Baseline::kCleanLoss;
  int64_t chunk_rows = 0;
  int64_t copies = 100;  // joint: every other site's noise adds variance, so more copies for the same power
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Sites : public ::testing::TestWithParam<Case> {};

TEST_P(Sites, MeanMatchesAutogradWithinStandardError) {
  const auto& k = GetParam();
  torch::manual_seed(5);
  test::TinyRnn rnn;
  test::TinyGcn gcn;
  rnn.to(torch::kDouble);
  gcn.to(torch::kDouble);
  torch::nn::Module& mod = k.graph ? static_cast<torch::nn::Module&>(gcn) : rnn;
  LayeredModel& lm = k.graph ? static_cast<LayeredModel&>(gcn) : rnn;
  auto b = k.graph ? test::tiny_graph(3) : test::tiny_text(4, 4, 3);
  auto ref = exact(mod, lm, b);

  torch::NoGradGuard no_grad;
  const int64_t copies = k.copies, repeats = 1000;
  EngineSettings s;
  std::vector<torch::Tensor> sig;
  for (size_t l = 0; l < k.modes.size(); ++l) {
    // Joint: every site's noise is extra variance for the others' estimates, so all use a small σ.
    const double sigma = k.modes[l] == Mode::kWeight || k.layer < 0 ? 1e-3 : 1e-2;
    s.layers.push_back({k.modes[l], copies, sigma, k.per_row});
    sig.push_back(torch::full({lm.layers()[l].weight().size(0)}, sigma, torch::kDouble));
  }
  s.antithetic = k.antithetic;
  s.baseline = k.baseline;
  s.chunk_rows = k.chunk_rows;
  Engine e(lm, s, sig);
  auto clean = e.clean_pass(b);
  EXPECT_NEAR(clean.mean_loss(),
              torch::nn::functional::cross_entropy(b.select(lm.forward_copies(b, 1)), b.targets()).item<double>(), 1e-12);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(77);
  std::vector<std::vector<torch::Tensor>> est(k.modes.size());
  for (int64_t r = 0; r < repeats; ++r) {
    if (k.layer >= 0) {
      auto g = e.layer(clean, k.layer, {copies}, gen).front();
      est[k.layer].push_back(flat(g.weight, g.bias));
    } else {
      auto g = e.joint(clean, {copies}, gen).front();
      for (size_t l = 0; l < k.modes.size(); ++l)
        if (k.modes[l] != Mode::kNone) est[l].push_back(flat(g[l].weight, g[l].bias));
    }
  }
  for (size_t l = 0; l < k.modes.size(); ++l) {
    if (est[l].empty()) continue;
    auto all = torch::stack(est[l]);
    auto se = all.std(0) / std::sqrt(static_cast<double>(repeats));
    auto mean = all.mean(0);
    // Tolerance: |z| < 4 for every coordinate (P(max|z| > 4) < 1% for <= 150 unbiased coordinates); the
    // same rule must reject an estimator scaled by 1.1.
    EXPECT_LT(((mean - ref[l]) / se).abs().max().item<double>(), 4.0) << k.name << " site " << l;
    EXPECT_GT(((mean * 1.1 - ref[l]) / (se * 1.1)).abs().max().item<double>(), 4.0) << k.name << " site " << l;
  }
}

constexpr Mode N = Mode::kNone, L = Mode::kLogit, W = Mode::kWeight;

INSTANTIATE_TEST_SUITE_P(
    Lr, Sites,
    ::testing::Values(
        // Recurrent cell: no prefix to reuse, so a layer-wise estimate runs the whole pass with one site noisy.
        Case{"rnn_hh_logit_every_step", false, 1, {N, L, N}},
        Case{"rnn_ih_logit_plain", false, 0, {L, N, N}, true, false},
        // Two rows per chunk: each chunk runs forward_copies on a slice of the sentences (Batch::rows).
        Case{"rnn_hh_logit_chunked", false, 1, {N, L, N}, true, true, Baseline::kCleanLoss, 2},
        Case{"rnn_hh_weight_per_copy", false, 1, {N, W, N}, false},
        Case{"rnn_hh_weight_per_row", false, 1, {N, W, N}, true},
        Case{"rnn_joint_all_logit", false, -1, {L, L, L}, true, true, Baseline::kCleanLoss, 0, 800},
        Case{"rnn_joint_weight_hh", false, -1, {L, W, L}, true, true, Baseline::kCleanLoss, 0, 800},
        // Graph: the rows of a copy share one loss; chunks never split them (chunk_rows 8 < 7 nodes x copies).
        Case{"gcn_l0_logit", true, 0, {L, N}},
        Case{"gcn_l1_logit_plain_chunked", true, 1, {N, L}, true, false, Baseline::kCleanLoss, 8},
        Case{"gcn_l0_weight_per_row", true, 0, {W, N}, true},
        Case{"gcn_l0_weight_per_copy", true, 0, {W, N}, false},
        Case{"gcn_joint", true, -1, {W, L}, false, true, Baseline::kCleanLoss, 0, 400},
        // Joint with site 0 unperturbed: the noisy pass starts at site 1 from the clean prefix. Joint cases use
        // σ 1e-3, so 400 copies for the power to reject the 1.1x estimator (at 100 copies the realisation
        // decides: max |z| 3.6 with the counter-based noise).
        Case{"gcn_joint_from_site_1", true, -1, {N, L}, true, true, Baseline::kCleanLoss, 0, 400},
        Case{"gcn_l1_logit_no_baseline", true, 1, {N, L}, true, true, Baseline::kNone, 0, 400},
        Case{"gcn_l1_logit_batch_mean", true, 1, {N, L}, true, false, Baseline::kBatchMean}),
    [](const auto& info) { return std::string(info.param.name); });

// A model that is not a chain has no suffix: the engine must not reach for trace()/forward_from().
TEST(Sites, HookPathNeverCallsTheChainApi) {
  torch::manual_seed(5);
  test::TinyRnn rnn;
  EXPECT_THROW(rnn.trace(test::tiny_text(2, 3, 1)), std::logic_error);
  torch::NoGradGuard no_grad;
  EngineSettings s;
  s.layers = {{L, 4, 1e-2, true}, {L, 4, 1e-2, true}, {L, 4, 1e-2, true}};
  std::vector<torch::Tensor> sig(3, torch::full({5}, 1e-2));
  sig[2] = torch::full({3}, 1e-2);
  Engine e(rnn, s, sig);
  auto b = test::tiny_text(2, 3, 1);
  auto clean = e.clean_pass(b);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto g = e.layer(clean, 1, {4}, gen).front();
  EXPECT_EQ(g.weight.sizes(), rnn.hh->weight.sizes());
  EXPECT_FALSE(g.bias.defined());
  // 4 copies x 2 sequences, one noisy pass.
  EXPECT_EQ(e.rows(), 8);
}

// Sobol points are negatively correlated from one to the next: they may not meet in one loss (a graph's
// rows, a recurrent site's calls), so the engine refuses them there instead of returning a biased estimate.
TEST(Sites, SobolIsRefusedWhereItWouldBias) {
  torch::manual_seed(5);
  test::TinyRnn rnn;
  test::TinyGcn gcn;
  gcn.to(torch::kDouble);
  EngineSettings s;
  s.source = Source::kSobol;
  s.layers = {{L, 4, 1e-2, true}, {L, 4, 1e-2, true}, {L, 4, 1e-2, true}};
  Engine e_rnn(rnn, s, {torch::full({5}, 1e-2), torch::full({5}, 1e-2), torch::full({3}, 1e-2)});
  EXPECT_THROW(e_rnn.clean_pass(test::tiny_text(2, 3, 1)), c10::Error);
  s.layers.resize(2);
  Engine e_gcn(gcn, s, {torch::full({6}, 1e-2, torch::kDouble), torch::full({3}, 1e-2, torch::kDouble)});
  EXPECT_THROW(e_gcn.clean_pass(test::tiny_graph(3)), c10::Error);
  s.source = Source::kMC;
  Engine ok(gcn, s, {torch::full({6}, 1e-2, torch::kDouble), torch::full({3}, 1e-2, torch::kDouble)});
  EXPECT_NO_THROW(ok.clean_pass(test::tiny_graph(3)));
}

// A chain's suffix perturbs one call per site: a model claiming prefix reuse while calling a site twice
// would be estimated silently wrong, so the clean pass refuses it.
TEST(Sites, ChainCallingASiteTwiceIsRefused) {
  struct Twice : torch::nn::Module, LayeredModel {
    torch::nn::Linear fc{nullptr};
    Twice() { fc = register_module("fc", torch::nn::Linear(3, 3)); }
    std::vector<PerturbableLayer> layers() override { return {{"fc", fc, nullptr}}; }
    bool reuses_prefix() const override { return true; }
    ForwardTrace trace(const Batch& b) override {
      ForwardTrace t;
      t.inputs = {b.x};
      t.logits = call_layer(0, fc, torch::tanh(call_layer(0, fc, b.x)));
      return t;
    }
  } m;
  EngineSettings s;
  s.layers = {{L, 4, 1e-2, true}};
  Engine e(m, s, {torch::full({3}, 1e-2)});
  Batch b;
  b.x = torch::randn({2, 3});
  b.y = torch::tensor({0, 2}, torch::kLong);
  EXPECT_THROW(e.clean_pass(b), c10::Error);
}

}  // namespace
}  // namespace lrb::lr
