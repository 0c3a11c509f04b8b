// Careless and hostile config input (issue 7, kind 2): empty and null values, second documents, alias
// bombs, deep nesting, huge files, Hydra's override order, and float options that float32 cannot hold.
#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include "core/compose.h"
#include "core/config.h"
#include "core/errors.h"
#include "tests/support/config_helpers.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using test::error_of;
using test::write;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct ConfigInput : ::testing::Test {
  test::TempDir dir;
  std::string exp, conf;
  void SetUp() override {
    conf = dir / "conf";
    write(conf + "/model/mlp.yaml", "name: mlp\nhidden: [256]\nactivation: relu\n");
    write(conf + "/model/resnet5.yaml", "name: resnet5\n");
    write(conf + "/trainer/bp.yaml", "name: bp\n");
    write(conf + "/trainer/es.yaml", "name: es\nsigma: 0.01\n");
    exp = dir / "exp.yaml";
    write(exp,
          "defaults: [model: mlp, trainer: bp]\n"
          "name: t\n"
          "train:\n"
          "  epochs: 3\n"
          "  optimizer: {name: adam, lr: 0.001}\n");
  }
  NodePtr composed(const std::vector<std::string>& overrides) { return compose(exp, overrides, conf); }
};

}  // namespace

TEST_F(ConfigInput, EmptyOverrideValueIsAnErrorNotTheDefault) {
  auto msg = error_of([&] { composed({"train.epochs="}); });
  EXPECT_TRUE(has(msg, "<command line>:1:1: override 'train.epochs=' has no value")) << msg;
  msg = error_of([&] { composed({"seed=1", "train.epochs=  "}); });
  EXPECT_TRUE(has(msg, "<command line>:1:2:")) << msg;
  msg = error_of([&] { composed({"model="}); });  // a group choice without an option
  EXPECT_TRUE(has(msg, "has no value")) << msg;
}

TEST_F(ConfigInput, ExplicitNullForATypedOptionIsAnError) {
  write(exp, "train:\n  epochs:\n  batch_size: ~\n");
  Config c(compose_file(exp, conf), "");
  int64_t v = 0;
  auto msg = error_of([&] { c.sub("train").read("epochs", v); });
  EXPECT_TRUE(has(msg, exp + ":2:")) << msg;
  EXPECT_TRUE(has(msg, "train.epochs: no value (got null or nothing, expected an integer")) << msg;
  EXPECT_TRUE(has(error_of([&] { c.sub("train").read("batch_size", v); }), "train.batch_size: no value"));
  auto root = composed({"train.epochs=null"});
  msg = error_of([&] { Config(root, "").sub("train").read("epochs", v); });
  EXPECT_TRUE(has(msg, "<command line>:1:1: train.epochs: no value")) << msg;
}

TEST_F(ConfigInput, SecondDocumentIsRejectedAtItsSeparatorLine) {
  write(exp, "# leading comment\nname: t\ntrain:\n  epochs: 3\n---\ntrain:\n  epochs: 1\n");
  auto msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_TRUE(has(msg, exp + ":5: a second YAML document starts here")) << msg;
  write(exp, "---\nname: t\n");  // a leading '---' opens the first (only) document
  EXPECT_EQ(error_of([&] { compose_file(exp, conf); }), "<no error>");
}

TEST_F(ConfigInput, AliasBombIsStoppedQuicklyWithOneLineNamingTheFile) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    text += fmt::format("a{}: &a{} [", i, i);
    for (int k = 0; k < 10; ++k) text += fmt::format("{}*a{}", k ? ", " : "", i - 1);
    text += "]\n";
  }
  write(exp, text);
  auto t0 = std::chrono::steady_clock::now();
  auto msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_TRUE(has(msg, exp + ": more than")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST_F(ConfigInput, SelfReferentialAliasIsRejected) {
  write(exp, "a: &x [1, *x]\n");
  auto msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_TRUE(has(msg, exp + ":")) << msg;
  EXPECT_FALSE(has(msg, "<no error>"));
}

TEST_F(ConfigInput, DeepNestingIsRefused) {
  write(exp, "a: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  auto msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_TRUE(has(msg, exp + ":1:")) << msg;
  EXPECT_TRUE(has(msg, "nested deeper than")) << msg;
  std::string block;
  for (int i = 0; i < 200; ++i) block += std::string(i, ' ') + "k:\n";
  write(exp, block);
  msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_TRUE(has(msg, "nested deeper than")) << msg;
}

TEST_F(ConfigInput, HugeFileIsRefusedWithoutReadingItAll) {
  std::string line(1023, '#');
  std::ofstream out(exp);
  for (int i = 0; i < 3000; ++i) out << line << "\n";  // 3 MiB of comments
  out.close();
  auto msg = error_of([&] { compose_file(exp, conf); });
  EXPECT_TRUE(has(msg, exp + ": config file is larger than")) << msg;
}

TEST_F(ConfigInput, ErrorsInAnAliasedValuePointAtTheKeyThatUsesIt) {
  write(exp,
        "shared: &opt {name: adam, lr: -1}\n"
        "train:\n"
        "  optimizer: *opt\n");
  Config c(compose_file(exp, conf), "");
  double lr = 0;
  auto msg = error_of([&] { c.sub("train").sub("optimizer").read("lr", lr, Range::positive()); });
  EXPECT_TRUE(has(msg, exp + ":3:")) << msg;
  EXPECT_TRUE(has(msg, "train.optimizer.lr: out of range")) << msg;
}

TEST_F(ConfigInput, GroupChoiceAppliesBeforeFieldOverridesWhateverTheOrder) {
  for (auto order : {std::vector<std::string>{"model.hidden=[512]", "model=mlp"},
                     std::vector<std::string>{"model=mlp", "model.hidden=[512]"}}) {
    auto root = composed(order);
    ASSERT_TRUE(root->get("model")->get("hidden")) << order[0];
    EXPECT_EQ(root->get("model")->get("hidden")->seq.at(0)->scalar, "512") << order[0];
  }
  EXPECT_EQ(spec_hash(composed({"model.hidden=[512]", "model=mlp"})),
            spec_hash(composed({"model=mlp", "model.hidden=[512]"})));
  // A field override of a group chosen on the command line applies to the chosen group.
  auto root = composed({"trainer.sigma=0.5", "trainer=es"});
  EXPECT_EQ(root->get("trainer")->get("name")->scalar, "es");
  EXPECT_EQ(root->get("trainer")->get("sigma")->scalar, "0.5");
}

TEST_F(ConfigInput, SpecHashIgnoresKeyOrderAndRestatedDefaults) {
  EXPECT_EQ(spec_hash(composed({})), spec_hash(composed({"model=mlp"})));
  EXPECT_EQ(spec_hash(composed({})), spec_hash(composed({"trainer=bp", "model=mlp"})));
  EXPECT_NE(spec_hash(composed({})), spec_hash(composed({"model=resnet5"})));
  write(dir / "reordered.yaml",
        "train:\n"
        "  optimizer: {lr: 0.001, name: adam}\n"
        "  epochs: 3\n"
        "name: t\n"
        "defaults: [trainer: bp, model: mlp]\n");
  EXPECT_EQ(spec_hash(compose(dir / "reordered.yaml", {}, conf)), spec_hash(composed({})));
}

TEST_F(ConfigInput, FloatOptionsMustBeFiniteAndRepresentableInFloat32) {
  struct Case {
    std::string value, needle;
  };
  for (const auto& c : std::vector<Case>{{"1e-50", "underflows float32"},
                                         {"-1e-40", "underflows float32"},
                                         {"1e39", "overflows float32"},
                                         {"nan", "not a finite number"},
                                         {"inf", "not a finite number"},
                                         {"-.inf", "wrong type"}}) {
    auto root = composed({"trainer=es", "trainer.sigma=" + c.value});
    Config t(root, "");
    double sigma = 0;
    auto msg = error_of([&] { t.sub("trainer").read("sigma", sigma); });
    EXPECT_TRUE(has(msg, "trainer.sigma:")) << c.value << ": " << msg;
    EXPECT_TRUE(has(msg, c.needle)) << c.value << ": " << msg;
    float f = 0;
    EXPECT_TRUE(has(error_of([&] { t.sub("trainer").read("sigma", f); }), c.needle)) << c.value;
  }
  for (std::string ok : {"0", "1e-30", "-2.5", "3e38"}) {
    Config t(composed({"trainer=es", "trainer.sigma=" + ok}), "");
    double sigma = 0;
    EXPECT_EQ(error_of([&] { t.sub("trainer").read("sigma", sigma); }), "<no error>") << ok;
  }
}
