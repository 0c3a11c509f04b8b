// Device-clean: every tensor the trainers (the LR engine, ES, BP), the attacks and the corruptions create
// follows the model's device. Each case runs once on the CPU and once on a second device, and must give
// tensors on that device with the CPU's values.
//
// It needs a second device type, which only a GPU gives a C++ program: torch::nn::Module::to moves a module only
// between dense CPU-like devices (set_data refuses meta and lazy tensors, where Python's Module.to swaps the
// parameter objects), and C++ LibTorch has no meta kernels for relu, conv or min (Python registers them). So
// without a GPU every case is skipped with that reason; tools/gpu_smoke.sh runs this binary on one, and
// tools/check_device_clean.sh (ctest device_lint) checks every factory call by reading it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/graph.h"
#include "core/registry.h"
#include "core/seed.h"
#include "models/classifier.h"
#include "tests/unit/lr/tiny_sites.h"
#include "threats/threat.h"
#include "threats/victim.h"
#include "trainers/trainer.h"

namespace lrb {
namespace {

const char* kNoGpu = "no CUDA device here, and LibTorch gives a C++ module no other second device (see the file's "
                     "head); tools/gpu_smoke.sh runs this on a GPU, ctest device_lint reads every factory call";

Config cfg(const std::string& yaml, const std::string& section) {
  return Config(parse_yaml_string(yaml, "device_clean_test"), section);
}

// Values on the two devices agree within this (float32 on both; a GPU's kernels and reduction order differ).
constexpr double kRtol = 1e-3, kAtol = 1e-5;

void expect_same(const torch::Tensor& on_cpu, const torch::Tensor& on_dev, const c10::Device& dev,
                 const std::string& what, bool values = true) {
  ASSERT_EQ(on_cpu.defined(), on_dev.defined()) << what;
  if (!on_cpu.defined()) return;
  EXPECT_EQ(on_dev.device(), dev) << what << " was made on " << on_dev.device() << ", not the model's " << dev;
  auto back = on_dev.cpu();
  ASSERT_EQ(on_cpu.sizes(), back.sizes()) << what;
  if (!values) return;
  if (on_cpu.is_floating_point())
    EXPECT_TRUE(torch::allclose(on_cpu, back.to(on_cpu.dtype()), kRtol, kAtol))
        << what << ": max |cpu - " << dev << "| = " << (on_cpu - back).abs().max().item<double>();
  else
    EXPECT_TRUE(torch::equal(on_cpu, back)) << what;
}

void announce(const std::string& name) { std::fprintf(stderr, "device_clean: %s\n", name.c_str()); }

struct Data {
  ModelContext ctx;
  Batch batch;
};

Data images(std::vector<int64_t> shape, int64_t n) {
  Data d;
  d.ctx.input.shape = shape;
  d.ctx.num_classes = 3;
  auto gen = make_generator(11);
  std::vector<int64_t> full{n};
  full.insert(full.end(), shape.begin(), shape.end());
  d.batch.x = at::rand(full, gen, torch::kFloat);
  d.batch.y = at::randint(3, {n}, gen, torch::kLong);
  return d;
}

// The LR tests' token batch (ids 1..5, so a vocabulary of 6 or more).
Data text(int64_t n, int64_t steps, int64_t vocab) {
  Data d;
  d.ctx.input.shape = {steps};
  d.ctx.input.vocab_size = vocab;
  d.ctx.num_classes = 3;
  d.batch = test::tiny_text(n, steps, 12);
  return d;
}

// 9 nodes, 3 features, 3 classes: a ring plus two chords; 5 nodes carry the loss.
Data graph() {
  Data d;
  const int64_t n = 9;
  d.ctx.input.shape = {3};
  d.ctx.num_classes = 3;
  auto gen = make_generator(13);
  Batch& b = d.batch;
  b.modality = Modality::kGraph;
  b.x = at::rand({n, 3}, gen, torch::kFloat);
  b.y = at::randint(3, {n}, gen, torch::kLong);
  std::vector<int64_t> u, v;
  for (int64_t i = 0; i < n; ++i) u.push_back(std::min(i, (i + 1) % n)), v.push_back(std::max(i, (i + 1) % n));
  u.push_back(0), v.push_back(4), u.push_back(2), v.push_back(7);
  b.edge_index = torch::stack({torch::tensor(u), torch::tensor(v)});
  b.adj = normalized_adjacency(b.edge_index, n);
  b.mask = torch::tensor({1, 1, 0, 1, 0, 1, 0, 0, 1}, torch::kBool);
  return d;
}

ClassifierImpl::Ptr make_model(const std::string& yaml, const ModelContext& ctx) {
  torch::manual_seed(0);
  return Registry<ClassifierImpl>::get().make(cfg(yaml, "model"), ctx);
}

struct TrainCase {
  std::string model, trainer;
  Data (*data)();
};

void PrintTo(const TrainCase& c, std::ostream* os) { *os << c.model << " | " << c.trainer; }

class TrainerFollowsModel : public ::testing::TestWithParam<TrainCase> {};

// One gradient estimate per device from the same weights, batch and generator seed. The generator is a host one
// on both sides, as fit() passes it: the LR and ES noise is addressed (counter-based, drawn from a key the
// generator gives), so the GPU must reproduce the CPU's estimate, not just its distribution. TF32 is off: its
// 10-bit mantissa would move the estimates by more than the tolerance.
TEST_P(TrainerFollowsModel, GradientsOnTheModelsDeviceEqualTheCpus) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoGpu;
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setFloat32MatmulPrecision("highest");
  const auto& k = GetParam();
  const c10::Device dev(c10::kCUDA, 0);
  announce(k.model + " | " + k.trainer + " on " + dev.str());
  auto d = k.data();
  std::vector<std::vector<torch::Tensor>> grads;
  for (const auto& where : {c10::Device(c10::kCPU), dev}) {
    auto model = make_model(k.model, d.ctx);
    model->to(where);
    auto trainer = Registry<Trainer>::get().make(cfg(k.trainer, "trainer"));
    trainer->attach(*model);
    for (auto& p : trainer->parameters()) ASSERT_EQ(p.device(), where) << "a trainer parameter";
    auto gen = make_generator(5);
    trainer->estimate_grad(*model, d.batch.to(where), gen);
    std::vector<torch::Tensor> g;
    for (auto& p : model->parameters())
      if (p.requires_grad()) g.push_back(p.grad());
    for (auto& p : trainer->parameters()) g.push_back(p.grad());
    grads.push_back(std::move(g));
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) expect_same(grads[0][i], grads[1][i], dev, "gradient " + std::to_string(i));
}

Data mlp_images() { return images({1, 4, 4}, 6); }
Data conv_images() { return images({3, 32, 32}, 2); }
Data snn_images() { return images({1, 4, 4}, 4); }
Data tokens() { return text(4, 5, 7); }

INSTANTIATE_TEST_SUITE_P(
    Zoo, TrainerFollowsModel,
    ::testing::Values(
        TrainCase{"name: mlp\nhidden: [8]", "name: bp", mlp_images},
        TrainCase{"name: mlp\nhidden: [8]", "name: lr-l\ncopies: 8", mlp_images},
        TrainCase{"name: mlp\nhidden: [8]", "name: lr-wl\ncopies: 8", mlp_images},
        TrainCase{"name: mlp\nhidden: [8]", "name: lr-wl\ncopies: 8\nnoise: sobol", mlp_images},
        TrainCase{"name: mlp\nhidden: [8]", "name: lr-l\ncopies: 8\nlearn_sigma: true", mlp_images},
        TrainCase{"name: mlp\nhidden: [8]", "name: es\npopulation: 6", mlp_images},
        TrainCase{"name: resnet5", "name: lr-wl\ncopies: 4", conv_images},
        TrainCase{"name: vgg8", "name: lr-wl\ncopies: 4", conv_images},
        TrainCase{"name: resnet5", "name: bp", conv_images},
        TrainCase{"name: rnn\nembedding_dim: 3\nhidden: 4", "name: lr-wl\ncopies: 4", tokens},
        TrainCase{"name: gru\nembedding_dim: 3\nhidden: 4", "name: lr-wl\ncopies: 4", tokens},
        TrainCase{"name: lstm\nembedding_dim: 3\nhidden: 4", "name: lr-l\ncopies: 4", tokens},
        TrainCase{"name: snn\nhidden: [6]\nsteps: 3", "name: lr-l\ncopies: 4", snn_images},
        TrainCase{"name: gcn\nhidden: 4\ndropout: 0", "name: lr-l\ncopies: 8", graph},
        TrainCase{"name: gcn\nhidden: 4\ndropout: 0", "name: es\npopulation: 6", graph},
        TrainCase{"name: gat\nheads: 2\nhidden: 2\ndropout: 0", "name: lr-l\ncopies: 8\nlayerwise: false", graph},
        TrainCase{"name: gat\nheads: 2\nhidden: 2\ndropout: 0", "name: bp", graph}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

// Every registered attack and corruption that fits images, against a small MLP: the adversarial or corrupted
// batch is on the model's device; a corruption's also equals the CPU's (its draws come from host generators),
// an attack's need not (random starts and restarts draw from the device's generator, as in the evaluator).
TEST(ThreatsFollowModel, EveryImageThreatOnTheModelsDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoGpu;
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setFloat32MatmulPrecision("highest");
  const c10::Device dev(c10::kCUDA, 0);
  auto d = images({3, 8, 8}, 4);
  ThreatContext tctx;
  tctx.input = d.ctx.input;
  tctx.input.mean = {0.5, 0.5, 0.5};
  tctx.input.std = {0.25, 0.25, 0.25};
  tctx.num_classes = 3;
  d.ctx.input = tctx.input;
  int checked = 0;
  for (const auto& key : threat_keys()) {
    auto probe = make_threat(cfg("name: " + key, "threat"));
    if (!probe->fits(Modality::kImage)) continue;
    announce(key + " on " + dev.str());
    SCOPED_TRACE(key);
    std::vector<torch::Tensor> out;
    bool is_attack = false;
    for (const auto& where : {c10::Device(c10::kCPU), dev}) {
      auto model = make_model("name: mlp\nhidden: [16]", d.ctx);
      model->to(where);
      auto threat = make_threat(cfg("name: " + key, "threat"));
      threat->check(tctx);
      auto clean = d.batch.to(where);
      if (auto* a = dynamic_cast<Attack*>(threat.get())) {
        is_attack = true;
        a->bind(tctx);
        Victim victim(*model);
        auto gen = make_generator(9, where);
        out.push_back(a->perturb(victim, clean, gen).x);
      } else {
        auto* c = dynamic_cast<Corruption*>(threat.get());
        ASSERT_NE(c, nullptr);
        auto index = torch::arange(clean.x.size(0), torch::TensorOptions().dtype(torch::kLong).device(where));
        out.push_back(corrupt(*c, clean, index, 3, tctx).x);
      }
    }
    expect_same(out[0], out[1], dev, key + "'s batch", /*values=*/!is_attack);
    if (is_attack) {
      EXPECT_TRUE(torch::isfinite(out[1]).all().item<bool>()) << key;
    }
    ++checked;
  }
  EXPECT_GE(checked, 8) << "fewer image threats registered than the paper's Table 1 has";
}

}  // namespace
}  // namespace lrb
