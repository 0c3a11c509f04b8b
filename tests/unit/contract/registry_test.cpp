// Contract tests over every registry: the exact key sets (a dropped registration fails here, not in a
// silently shorter table), error messages for unknown keys, and per-kind behaviour.
#include "core/registry.h"

#include <torch/torch.h>

#include "core/graph.h"
#include "core/seed.h"
#include "datasets/dataset.h"
#include "models/classifier.h"
#include "models/layered.h"
#include "threats/threat.h"
#include "trainers/trainer.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
Config cfg(const std::string& yaml) { return Config(parse_yaml_string(yaml, "test.yaml"), ""); }

// A registered model with a context and batches of its own modality: images 3x32x32 (10 classes); token
// ids of length 12 over a 50-word vocabulary with true lengths (4 classes) for a model that refuses images;
// or a graph of n nodes with 6 features on a ring (3 classes) for one that refuses both.
struct AnyModel {
  ClassifierImpl::Ptr model;
  LayeredModel* layered = nullptr;
  int64_t classes = 10;
  Batch batch(int64_t n) const {
    Batch b;
    if (model->modality() == Modality::kText) {
      b.modality = Modality::kText;
      b.x = torch::randint(1, 50, {n, 12}, torch::kLong);
      b.lengths = torch::randint(1, 13, {n}, torch::kLong);
    } else if (model->modality() == Modality::kGraph) {
      b.modality = Modality::kGraph;
      b.x = torch::rand({n, 6});
      auto u = torch::arange(n, torch::kLong), v = (u + 1).remainder(n);
      b.edge_index = torch::stack({torch::minimum(u, v), torch::maximum(u, v)});
      b.adj = normalized_adjacency(b.edge_index, n);
      b.y = torch::randint(classes, {n}, torch::kLong);
      b.mask = torch::ones({n}, torch::kBool);
    } else {
      b.x = torch::rand({n, 3, 32, 32});
    }
    return b;
  }
};

AnyModel make_any(const std::string& key) {
  AnyModel a;
  ModelContext img;
  img.input.shape = {3, 32, 32};
  img.input.mean = {0.5, 0.5, 0.5};
  img.input.std = {0.25, 0.25, 0.25};
  ModelContext txt;
  txt.input.shape = {12};
  txt.input.vocab_size = 50;
  txt.num_classes = 4;
  ModelContext graph;
  graph.input.shape = {6};
  graph.num_classes = 3;
  std::string why;
  // A model refuses a context of another modality (c10::Error) or the other modality's settings (ConfigError).
  for (const auto& [ctx, extra] : {std::pair{img, ""}, {graph, ""}, {txt, "\nembedding_dim: 6\nhidden: 5"}}) {
    try {
      a.model = Registry<ClassifierImpl>::get().make(cfg("name: " + key + extra), ctx);
      a.classes = ctx.num_classes;
      break;
    } catch (const std::exception& e) {
      why += std::string(" | ") + e.what();
    }
  }
  if (!a.model) throw std::logic_error(key + ": no test context fits this model" + why);
  a.layered = dynamic_cast<LayeredModel*>(a.model.get());
  return a;
}
}  // namespace

TEST(Registry, ExactKeySets) {
  EXPECT_EQ(Registry<Trainer>::get().keys(), (std::vector<std::string>{"bp", "bp-noise-l", "bp-noise-wl", "es", "lr-l", "lr-wl"}));
  EXPECT_EQ(Registry<ClassifierImpl>::get().keys(),
            (std::vector<std::string>{"gat", "gcn", "gru", "lstm", "mlp", "resnet5", "rnn", "snn", "vgg8"}));
  EXPECT_EQ(Registry<Attack>::get().keys(),
            (std::vector<std::string>{"apgd-ce", "apgd-t", "autoattack", "dice", "fgsm", "ga", "i-fgsm", "mi-fgsm",
                                      "pwws", "random-edge", "square"}));
  EXPECT_EQ(Registry<Corruption>::get().keys(),
            (std::vector<std::string>{"gaussian", "grey", "mask", "poisson", "shuffle", "uniform", "word-mask"}));
  EXPECT_EQ(Registry<DatasetSource>::get().keys(),
            (std::vector<std::string>{"ag-news", "cifar10", "cora", "fashion-mnist", "mnist"}));
}

TEST(Registry, EveryEntryHasASummary) {
  for (const auto& [k, e] : Registry<Trainer>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  for (const auto& [k, e] : Registry<ClassifierImpl>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  for (const auto& [k, e] : Registry<DatasetSource>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  for (const auto& [k, e] : Registry<Attack>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  for (const auto& [k, e] : Registry<Corruption>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
}

TEST(Registry, UnknownKeyListsKnownOnesAndSuggests) {
  try {
    Registry<Trainer>::get().make(cfg("name: lr-lw"));
    FAIL();
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("test.yaml:1:7: unknown trainer 'lr-lw' (known: bp, bp-noise-l, bp-noise-wl, es, lr-l, lr-wl)"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("did you mean"), std::string::npos) << msg;
  }
}

TEST(Registry, DuplicateRegistrationIsRejected) {
  auto& r = Registry<Trainer>::get();
  EXPECT_THROW(r.add("bp", r.at("bp", "").make, "again"), std::logic_error);
}

TEST(Registry, MissingNameIsAConfigError) { EXPECT_THROW(Registry<Trainer>::get().make(cfg("copies: 3")), ConfigError); }

// Every trainer lowers the loss of a small MLP on a separable problem (20 steps, Adam 0.01).
class TrainerContract : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerContract, LossFallsOnASeparableProblem) {
  torch::manual_seed(0);
  ModelContext ctx;
  ctx.input.shape = {1, 4, 4};
  ctx.num_classes = 2;
  auto model = Registry<ClassifierImpl>::get().make(cfg("name: mlp\nhidden: [8]"), ctx);
  auto trainer = Registry<Trainer>::get().make(cfg("name: " + GetParam()));
  trainer->attach(*model);
  auto params = model->parameters();
  for (auto& t : trainer->parameters()) params.push_back(t);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(0.01));
  auto gen = make_generator(1);
  Batch b;
  b.x = torch::rand({64, 1, 4, 4}, gen);
  b.y = (b.x.flatten(1).slice(1, 0, 8).sum(1) > b.x.flatten(1).slice(1, 8, 16).sum(1)).to(torch::kLong);
  auto loss = [&] {
    torch::NoGradGuard g;
    return torch::nn::functional::cross_entropy(model->forward(b), b.y).item<double>();
  };
  double before = loss();
  for (int i = 0; i < 20; ++i) {
    trainer->estimate_grad(*model, b, gen);
    opt.step();
  }
  EXPECT_LT(loss(), before - 0.02) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(AllTrainers, TrainerContract, ::testing::ValuesIn(Registry<Trainer>::get().keys()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// Every model maps a batch of its modality to [B, classes] logits (images [B,C,H,W] in [0,1]; text ids [B,T]
// with lengths).
TEST(ModelContract, ModelsGiveLogits) {
  for (const auto& key : Registry<ClassifierImpl>::get().keys()) {
    auto a = make_any(key);
    EXPECT_EQ(a.model->forward(a.batch(5)).sizes(), (std::vector<int64_t>{5, a.classes})) << key;
    EXPECT_EQ(a.model->key(), key);
  }
}

// The LR engine relies on forward_from(l, layer_l(x_l)) reproducing the clean logits for every layer,
// for any number of row-tiled copies. Models stay in training mode, as the trainers run them: a model with
// dropout (gcn) must reuse the clean pass's masks in the passes after it.
TEST(ModelContract, LayeredForwardFromMatchesTheCleanForward) {
  for (const auto& key : Registry<ClassifierImpl>::get().keys()) {
    torch::manual_seed(3);
    auto a = make_any(key);
    auto& m = a.model;
    auto* layered = a.layered;
    if (!layered || !layered->reuses_prefix()) continue;  // trace/forward_from: chains only
    auto b = a.batch(4);
    torch::NoGradGuard g;
    auto t = layered->trace(b);
    auto layers = layered->layers();
    for (int l = 0; l < static_cast<int>(layers.size()); ++l) {
      auto z = tile_rows(layers[l](t.inputs[l]), 3);
      auto out = layered->forward_from(l, z, t, 3);
      EXPECT_TRUE(torch::allclose(out, tile_rows(t.logits, 3), 1e-5, 1e-5)) << key << " layer " << l;
    }
    m->eval();  // forward and trace agree exactly where the model is deterministic
    EXPECT_TRUE(torch::allclose(layered->trace(b).logits, m->forward(b))) << key;
  }
}

// The weight-vs-logit rule and the models' own presets (docs/PAPER.md §2-§4) are what LR-WL runs by default.
TEST(ModelContract, PreactivationSizesMatchTheForward) {
  for (const auto& key : Registry<ClassifierImpl>::get().keys()) {
    auto a = make_any(key);
    auto* layered = a.layered;
    if (!layered || !layered->reuses_prefix()) continue;  // trace/forward_from: chains only
    auto b = a.batch(2);
    torch::NoGradGuard g;
    auto t = layered->trace(b);
    auto layers = layered->layers();
    auto sizes = layered->preactivation_sizes();
    ASSERT_EQ(sizes.size(), layers.size()) << key;
    for (size_t l = 0; l < layers.size(); ++l) EXPECT_EQ(sizes[l], layers[l](t.inputs[l]).numel() / 2) << key << l;
  }
}

// VGG-8's shape is the paper's (docs/PAPER.md §2.2): pools after convs 2, 4 and 6, so 32 -> 16 -> 8 -> 4 and a
// 1024-wide flatten into FC 256 -> 10. The per-site output sizes pin the pool positions.
TEST(ModelContract, Vgg8HasThePapersShape) {
  ModelContext ctx;
  ctx.input.shape = {3, 32, 32};
  auto m = Registry<ClassifierImpl>::get().make(cfg("name: vgg8"), ctx);
  auto* layered = dynamic_cast<LayeredModel*>(m.get());
  ASSERT_NE(layered, nullptr);
  EXPECT_EQ(layered->preactivation_sizes(),
            (std::vector<int64_t>{16384, 16384, 8192, 8192, 4096, 4096, 256, 10}));
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  // 448 + 2320 + 4640 + 9248 + 18496 + 36928 convs, 262400 + 2570 FC.
  EXPECT_EQ(n, 448 + 2320 + 4640 + 9248 + 18496 + 36928 + 262400 + 2570);
}

// The hook path (no prefix reuse, and every model that is not a chain) runs forward_copies: with an
// identity hook it must give the clean logits tiled copy-major, calling every site at least once per pass
// with rows = copies x batch (a graph's: copies x rows of the site's kind).
TEST(ModelContract, ForwardCopiesMatchesTheCleanForward) {
  for (const auto& key : Registry<ClassifierImpl>::get().keys()) {
    torch::manual_seed(6);
    auto a = make_any(key);
    auto* layered = a.layered;
    if (!layered) continue;
    auto b = a.batch(3);
    torch::NoGradGuard g;
    auto clean = a.model->forward(b);  // first: the clean pass draws a dropout model's masks
    auto layers = layered->layers();
    std::vector<int> calls(layers.size(), 0);
    layered->layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor&) {
      ++calls[l];
      // A shared call (call_layer_shared) gives one copy's rows; a graph site may run on other rows of each
      // copy (GAT's attention: one per edge), still copy-major.
      if (layered->shared_copies())
        EXPECT_TRUE(layered->shared_copies() == 2 && x.size(0) == 3) << key << " site " << l;
      else if (b.modality == Modality::kGraph)
        EXPECT_EQ(x.size(0) % 2, 0) << key << " site " << l;
      else
        EXPECT_EQ(x.size(0), 2 * 3) << key << " site " << l;
      return layers[l](x);
    };
    auto out = layered->forward_copies(b, 2);
    layered->layer_hook = nullptr;
    for (size_t l = 0; l < layers.size(); ++l) EXPECT_GE(calls[l], 1) << key << " site " << l;
    EXPECT_TRUE(torch::allclose(out, tile_rows(clean, 2), 1e-5, 1e-5)) << key;
  }
}

// All-layers-at-once injection calls every site through layer_hook inside forward_from(0, ...): an identity
// hook must reproduce the clean logits, including ResNet-5's skip, which then carries the live value.
TEST(ModelContract, JointHookPathMatchesTheCleanForward) {
  for (const auto& key : Registry<ClassifierImpl>::get().keys()) {
    torch::manual_seed(4);
    auto a = make_any(key);
    auto* layered = a.layered;
    if (!layered || !layered->reuses_prefix()) continue;  // trace/forward_from: chains only
    auto b = a.batch(3);
    torch::NoGradGuard g;
    auto t = layered->trace(b);
    auto layers = layered->layers();
    int calls = 0;
    layered->layer_hook = [&](int l, const torch::Tensor& x, const torch::Tensor&) {
      ++calls;
      return layers[l](x);
    };
    auto out = layered->forward_from(0, tile_rows(layers[0](t.inputs[0]), 2), t, 2);
    layered->layer_hook = nullptr;
    EXPECT_EQ(calls, static_cast<int>(layers.size()) - 1) << key;
    EXPECT_TRUE(torch::allclose(out, tile_rows(t.logits, 2), 1e-5, 1e-5)) << key;
  }
}
