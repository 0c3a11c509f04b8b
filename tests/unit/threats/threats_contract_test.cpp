// Contract tests over every registered attack and corruption (a new plugin is covered by registering
// it): shapes, [0,1] range, the eps budget, determinism, batching independence, and that an attack
// leaves the model exactly as it found it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "core/registry.h"
#include "tests/unit/threats/threat_test_util.h"
#include "threats/victim.h"

using namespace lrb;
using namespace lrb::test;

namespace {

// "k=v;k=v" -> map (the threat_params column).
std::map<std::string, std::string> parse_params(const std::string& s) {
  std::map<std::string, std::string> out;
  std::stringstream in(s);
  std::string kv;
  while (std::getline(in, kv, ';')) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

TEST(Threats, KeysNeverClashAndAllHaveSummaries) {
  for (const auto& k : Registry<Attack>::get().keys()) EXPECT_FALSE(Registry<Corruption>::get().contains(k)) << k;
  for (const auto& [k, e] : Registry<Attack>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  for (const auto& [k, e] : Registry<Corruption>::get().entries()) EXPECT_FALSE(e.summary.empty()) << k;
  auto keys = threat_keys();
  EXPECT_EQ(keys, (std::vector<std::string>{"apgd-ce", "apgd-t", "autoattack", "dice", "fgsm", "ga", "gaussian", "grey",
                                             "i-fgsm", "mask", "mi-fgsm", "poisson", "pwws", "random-edge", "shuffle",
                                             "square", "uniform", "word-mask"}));
}

TEST(Threats, MakeThreatErrors) {
  try {
    make_threat(threat_cfg("name: fgsn"));
    FAIL() << "unknown name accepted";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (const auto& k : threat_keys()) EXPECT_NE(msg.find(k), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean 'fgsm'"), std::string::npos) << msg;
  }
  EXPECT_THROW(make_threat(threat_cfg("name: fgsm\neps: 2")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: fgsm\nepz: 0.1")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: i-fgsm\nsteps: 0")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: mi-fgsm\nzero_guard: -1")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: mask\nfraction: 0")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: grey\nweights: bt2020")), ConfigError);
  EXPECT_THROW(make_threat(threat_cfg("name: poisson\nrate: 0")), ConfigError);
}

TEST(Threats, VictimRefusesModelsWithoutAnInputGradient) {
  auto b = separable_images(8, 3);
  DetachingModel detaching;
  EXPECT_THROW(Victim(detaching).input_grad(b), GradientError);
  for (auto& p : detaching.parameters()) p.requires_grad_(false);  // an LR-trained model's parameters
  EXPECT_THROW(Victim(detaching).input_grad(b), GradientError);
  ConstantModel constant;
  EXPECT_THROW(Victim(constant).input_grad(b), GradientError);
}

// --- attacks ---------------------------------------------------------------------------------------

// The contracts below run on images; text threats have theirs in text_threats_test.cpp (TextThreatContract).
class AttackContract : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Attack> attack() { return make_as<Attack>("name: " + GetParam()); }
  void SetUp() override {
    if (!attack()->fits(Modality::kImage)) GTEST_SKIP() << "text or graph attack: see TextThreatContract / GraphThreatContract";
    // The contract model has 2 classes; the targeted DLR loss needs 4 or more (autoattack_golden_test.cpp
    // holds these two to the same contract on a 10-class model). Every other attack must accept the data.
    if (GetParam() == "apgd-t" || GetParam() == "autoattack") {
      EXPECT_THROW(attack()->check(image_context()), ConfigError);
      GTEST_SKIP() << "needs 4+ classes: see autoattack_golden_test.cpp";
    }
    attack()->check(image_context());
  }
};

TEST_P(AttackContract, DescribesItself) {
  auto a = attack();
  EXPECT_EQ(a->key(), GetParam());
  EXPECT_FALSE(a->metric().empty());
  EXPECT_FALSE(a->params().empty());
}

TEST_P(AttackContract, StaysInRangeAndBudgetIsDeterministicAndHurts) {
  auto& t = trained();
  ASSERT_GE(t.clean_acc, 0.9) << "the test model did not learn the separable problem";
  auto a = attack();
  auto gen = make_generator(5);
  Victim victim(*t.model);
  Batch adv = a->perturb(victim, t.test, gen);
  EXPECT_GT(victim.queries(), 0);
  ASSERT_EQ(adv.x.sizes(), t.test.x.sizes());
  EXPECT_EQ(adv.x.scalar_type(), t.test.x.scalar_type());
  EXPECT_FALSE(adv.x.requires_grad());
  EXPECT_TRUE(torch::equal(adv.y, t.test.y));
  EXPECT_GE(adv.x.min().item<double>(), 0.0);
  EXPECT_LE(adv.x.max().item<double>(), 1.0);
  auto params = parse_params(a->params());
  if (params.count("eps")) {
    double eps = std::stod(params["eps"]);
    EXPECT_LE((adv.x - t.test.x).abs().max().item<double>(), eps + 1e-6);
  }
  auto gen2 = make_generator(5);
  EXPECT_TRUE(torch::equal(a->perturb(victim, t.test, gen2).x, adv.x)) << "same seed, different result";
  // Tolerance 0: an attack may fail to hurt, never help.
  double adv_acc = accuracy(*t.model, adv);
  EXPECT_LE(adv_acc, t.clean_acc) << "clean " << t.clean_acc << ", attacked " << adv_acc;
}

TEST_P(AttackContract, RestoresModeAndLeavesParameterGradsAlone) {
  for (bool training : {true, false}) {
    torch::manual_seed(1);
    auto m = std::make_shared<TinyConvNet>();
    auto b = separable_images(16, 4);
    torch::nn::functional::cross_entropy(m->forward(b), b.y).backward();
    m->conv->bias.mutable_grad() = torch::Tensor();  // one undefined grad must stay undefined
    std::vector<torch::Tensor> before;
    for (auto& p : m->parameters()) before.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    std::vector<torch::Tensor> weights;
    for (auto& p : m->parameters()) weights.push_back(p.detach().clone());
    m->train(training);
    {
      auto a = attack();
      auto gen = make_generator(0);
      Victim victim(*m);
      EXPECT_FALSE(m->is_training()) << "attacks run in eval mode";
      a->perturb(victim, b, gen);
    }
    EXPECT_EQ(m->is_training(), training);
    auto ps = m->parameters();
    for (size_t i = 0; i < ps.size(); ++i) {
      EXPECT_TRUE(torch::equal(ps[i].detach(), weights[i])) << "parameter " << i << " changed";
      ASSERT_EQ(ps[i].grad().defined(), before[i].defined()) << "parameter " << i;
      if (before[i].defined()) {
        EXPECT_TRUE(torch::equal(ps[i].grad(), before[i])) << "parameter " << i;
      }
    }
  }
}

TEST_P(AttackContract, GradientAttacksRefuseModelsWithoutAnInputGradient) {
  auto a = attack();
  if (!a->needs_input_grad()) GTEST_SKIP() << "score-based attack";
  auto b = separable_images(8, 3);
  auto gen = make_generator(0);
  DetachingModel detaching;
  Victim v1(detaching);
  EXPECT_THROW(a->perturb(v1, b, gen), GradientError);
  ConstantModel constant;
  Victim v2(constant);
  EXPECT_THROW(a->perturb(v2, b, gen), GradientError);
}

INSTANTIATE_TEST_SUITE_P(All, AttackContract, ::testing::ValuesIn(Registry<Attack>::get().keys()), param_name);

TEST(Threats, FgsmFamilyHurtsTheTrainedModel) {
  // Stronger than the contract: at the default eps 8/255 each attack costs at least 20 points here.
  auto& t = trained();
  for (const auto& key : {"fgsm", "i-fgsm", "mi-fgsm"}) {
    auto a = make_as<Attack>(std::string("name: ") + key);
    auto gen = make_generator(0);
    Victim victim(*t.model);
    double adv_acc = accuracy(*t.model, a->perturb(victim, t.test, gen));
    EXPECT_LE(adv_acc, t.clean_acc - 0.2) << key << ": clean " << t.clean_acc << ", attacked " << adv_acc;
  }
}

// --- corruptions -----------------------------------------------------------------------------------

class CorruptionContract : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Corruption> corruption() { return make_as<Corruption>("name: " + GetParam()); }
  void SetUp() override {
    if (!corruption()->fits(Modality::kImage)) GTEST_SKIP() << "text corruption: see TextThreatContract";
  }
  Batch clean() { return separable_images(4, 9); }
  torch::Tensor index() { return torch::tensor({10, 11, 12, 13}, torch::kLong); }
};

TEST_P(CorruptionContract, DescribesItself) {
  auto c = corruption();
  EXPECT_EQ(c->key(), GetParam());
  EXPECT_FALSE(c->metric().empty());
  EXPECT_FALSE(c->params().empty());
}

TEST_P(CorruptionContract, KeepsShapeDtypeAndRangeAndLeavesTheInputAlone) {
  auto c = corruption();
  auto b = clean();
  auto copy = b.x.clone();
  Batch out = corrupt(*c, b, index(), 42, image_context());
  ASSERT_EQ(out.x.sizes(), b.x.sizes());
  EXPECT_EQ(out.x.scalar_type(), b.x.scalar_type());
  EXPECT_TRUE(torch::equal(out.y, b.y));
  EXPECT_GE(out.x.min().item<double>(), 0.0);
  EXPECT_LE(out.x.max().item<double>(), 1.0);
  EXPECT_TRUE(torch::equal(b.x, copy)) << "the clean batch was modified in place";
  EXPECT_FALSE(torch::equal(out.x, b.x)) << "the corruption changed nothing";
}

TEST_P(CorruptionContract, SameSeedSameOutputOtherSeedOtherOutput) {
  auto c = corruption();
  auto b = clean();
  auto ctx = image_context();
  auto a = corrupt(*c, b, index(), 42, ctx).x;
  EXPECT_TRUE(torch::equal(a, corrupt(*c, b, index(), 42, ctx).x));
  auto gen = make_generator(0);
  Batch one = b.rows(torch::tensor({0}, torch::kLong));
  if (c->draw(one, ctx, gen).defined()) {
    EXPECT_FALSE(torch::equal(a, corrupt(*c, b, index(), 43, ctx).x)) << "the seed is ignored";
  }
}

TEST_P(CorruptionContract, RowsDoNotDependOnBatching) {
  auto c = corruption();
  auto b = clean();
  auto ctx = image_context();
  auto whole = corrupt(*c, b, index(), 42, ctx).x;
  for (int64_t r = 0; r < 4; ++r) {
    Batch one = b.rows(torch::tensor({r}, torch::kLong));
    auto alone = corrupt(*c, one, torch::tensor({10 + r}, torch::kLong), 42, ctx).x;
    EXPECT_TRUE(torch::equal(alone[0], whole[r])) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(All, CorruptionContract, ::testing::ValuesIn(Registry<Corruption>::get().keys()),
                         param_name);
