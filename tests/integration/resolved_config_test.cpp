// config.resolved.yaml holds every setting in effect, the model's LR preset included: a finished LR-WL run is
// re-created from that file alone after the model's preset changed (a model registered outside lrbench, as a
// plugin registers one), down to the checkpoint's bytes; the original config then names another experiment.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/compose.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/registry.h"
#include "experiments/train_run.h"
#include "models/chain.h"
#include "models/classifier.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

// The preset the test changes between runs, as a plugin's new version would.
LrPreset g_preset{{"logit", "logit"}, {20, 20}, {0.1, 0.1}};

class PresetMlpImpl : public ClassifierImpl, public ChainModel {
 public:
  explicit PresetMlpImpl(const ModelContext& ctx) {
    int64_t in = 1;
    for (auto d : ctx.input.shape) in *= d;
    auto fc0 = register_module("fc0", torch::nn::Linear(in, 16));
    auto fc1 = register_module("fc1", torch::nn::Linear(16, ctx.num_classes));
    add_site({"fc0", fc0, nullptr}, [](const torch::Tensor& x, const Flow&) { return x.flatten(1); });
    add_site({"fc1", fc1, nullptr}, [](const torch::Tensor& z, const Flow&) { return torch::relu(z); });
    finish_chain(ctx.input.shape);
  }
  torch::Tensor forward(const Batch& b) override { return trace(b).logits; }
  std::string key() const override { return "test-preset-mlp"; }
  Modality modality() const override { return Modality::kImage; }
  std::optional<LrPreset> lr_preset(const std::string&) const override { return g_preset; }

 protected:
  torch::Tensor prepare(const Batch& b) override { return b.x; }
};

LRB_REGISTER(ClassifierImpl, "test-preset-mlp", "a two-layer MLP whose LR preset the test changes",
             [](const Config& c, const ModelContext& ctx) -> ClassifierImpl::Ptr {
               c.has("name");
               return std::make_shared<PresetMlpImpl>(ctx);
             });

const char* kExperiment = R"(name: preset-test
seed: 3
threads: 2
dataset: {name: fashion-mnist, limit_train: 600, limit_test: 200}
model: {name: test-preset-mlp}
trainer: {name: lr-wl}
train: {epochs: 1, batch_size: 100}
)";

nlohmann::json run_json(const test::TempDir& d) { return nlohmann::json::parse(read_text(d / "run.json")); }

}  // namespace

TEST(ResolvedConfig, RecreatesAnLrRunAfterTheModelsPresetChanged) {
  test::TempDir a, b, c;
  g_preset = {{"logit", "logit"}, {20, 20}, {0.1, 0.1}};
  train_run(parse_yaml_string(kExperiment, "experiment"), a.path());
  const auto resolved = read_text(a / "config.resolved.yaml");
  EXPECT_NE(resolved.find("copies: [20, 20]"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("sigma: [0.1, 0.1]"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("epochs: 1"), std::string::npos) << "defaults are recorded too";
  EXPECT_NE(resolved.find("optimizer:"), std::string::npos) << resolved;
  const auto ja = run_json(a);
  ASSERT_TRUE(ja.contains("resolved_from")) << ja.dump(2);
  EXPECT_NE(ja["resolved_from"]["trainer.copies"].get<std::string>().find("preset of model 'test-preset-mlp'"),
            std::string::npos);

  // The plugin's next version changes its preset: the recorded config still trains the same run.
  g_preset = {{"logit", "logit"}, {40, 40}, {0.05, 0.05}};
  train_run(parse_yaml_file(a / "config.resolved.yaml"), b.path());
  const auto jb = run_json(b);
  EXPECT_EQ(jb["spec_hash"], ja["spec_hash"]);
  EXPECT_EQ(jb["checkpoint"]["sha256"], ja["checkpoint"]["sha256"]) << "the same checkpoint, byte for byte";
  EXPECT_EQ(jb["final_test_acc"], ja["final_test_acc"]);

  // The original config now resolves to the new preset: another experiment, with another hash and model.
  train_run(parse_yaml_string(kExperiment, "experiment"), c.path());
  const auto jc = run_json(c);
  EXPECT_NE(jc["spec_hash"], ja["spec_hash"]);
  EXPECT_NE(jc["checkpoint"]["sha256"], ja["checkpoint"]["sha256"]);
  EXPECT_NE(read_text(c / "config.resolved.yaml").find("copies: [40, 40]"), std::string::npos);
  g_preset = {{"logit", "logit"}, {20, 20}, {0.1, 0.1}};
}

// A key of the file's trainer group that a command-line switch makes unknown is dropped, not refused; an
// explicitly unknown key still is.
TEST(ResolvedConfig, SwitchedGroupDropsTheOldOptionsKeys) {
  test::TempDir d;
  const std::string kConf = test::source_dir() + "/experiments/conf";
  std::ofstream(d / "e.yaml") << "defaults: [dataset: fashion-mnist, model: mlp, trainer: lr-wl]\n"
                                 "trainer: {copies_divisor: 4}\n";
  auto bp = plan_run(compose(d / "e.yaml", {"trainer=bp"}, kConf));
  EXPECT_EQ(bp.spec.root->get("trainer")->get("copies_divisor"), nullptr);
  EXPECT_THROW(plan_run(compose(d / "e.yaml", {"trainer=bp", "trainer.copies_divisor=4"}, kConf)), ConfigError);
  auto lr = plan_run(compose(d / "e.yaml", {}, kConf));
  ASSERT_NE(lr.spec.root->get("trainer")->get("copies_divisor"), nullptr);
}
