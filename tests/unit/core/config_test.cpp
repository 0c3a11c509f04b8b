// Config composition, overrides and strict decoding: every error names file:line:col and the fix.
#include "core/config.h"

#include <fstream>

#include "core/errors.h"
#include "tests/support/config_helpers.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using test::error_of;
using test::write;

struct ConfigFixture : ::testing::Test {
  test::TempDir dir;
  std::string exp, conf;
  void SetUp() override {
    conf = dir / "conf";
    write(conf + "/model/mlp.yaml", "name: mlp\nhidden: [256]\nactivation: relu\n");
    write(conf + "/model/resnet5.yaml", "name: resnet5\n");
    write(conf + "/trainer/bp.yaml", "name: bp\n");
    write(conf + "/trainer/lr-wl.yaml", "name: lr-wl\ncopies: 100\n");
    exp = dir / "exp.yaml";
    write(exp,
          "defaults: [model: mlp, trainer: bp]\n"
          "name: t\n"
          "model:\n"
          "  hidden: [128]\n"
          "train:\n"
          "  epochs: 2\n"
          "  optimizer: {name: adam, lr: 0.001}\n");
  }
};

}  // namespace

TEST_F(ConfigFixture, DefaultsComposeAndFileOverridesThem) {
  auto root = compose_file(exp);
  EXPECT_EQ(root->get("model")->get("name")->scalar, "mlp");
  EXPECT_EQ(root->get("model")->get("hidden")->seq.at(0)->scalar, "128");        // the file wins
  EXPECT_EQ(root->get("model")->get("activation")->scalar, "relu");              // kept from the group
  EXPECT_EQ(root->get("trainer")->get("name")->scalar, "bp");
  EXPECT_EQ(root->get("defaults"), nullptr);
}

TEST_F(ConfigFixture, OverridesSetValuesAndSwapGroups) {
  auto root = compose_file(exp);
  apply_override(root, "train.epochs=5", conf, 1);
  apply_override(root, "train.new_section.x=1.5", conf, 2);
  apply_override(root, "trainer=lr-wl", conf, 3);
  apply_override(root, "trainer.copies=[10, 20]", conf, 4);
  Config c(root, "");
  EXPECT_EQ(c.sub("train").require<int64_t>("epochs"), 5);
  EXPECT_DOUBLE_EQ(c.sub("train").sub("new_section").require<double>("x"), 1.5);
  EXPECT_EQ(c.sub("trainer").require<std::string>("name"), "lr-wl");
  std::vector<int64_t> copies;
  c.sub("trainer").read("copies", copies);
  EXPECT_EQ(copies, (std::vector<int64_t>{10, 20}));
}

TEST_F(ConfigFixture, GroupSwapReplacesRatherThanMerges) {
  auto root = compose_file(exp);
  apply_override(root, "model=resnet5", conf, 1);
  EXPECT_EQ(root->get("model")->get("hidden"), nullptr);
}

TEST_F(ConfigFixture, UnknownGroupOptionSuggestsTheNearest) {
  auto root = compose_file(exp);
  auto msg = error_of([&] { apply_override(root, "trainer=lr-w", conf, 3); });
  EXPECT_NE(msg.find("<command line>:1:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'lr-wl'?"), std::string::npos) << msg;
}

TEST_F(ConfigFixture, OverrideWithoutEqualsIsRejected) {
  auto root = compose_file(exp);
  EXPECT_NE(error_of([&] { apply_override(root, "train.epochs", conf, 1); }).find("key=value"), std::string::npos);
}

TEST_F(ConfigFixture, MalformedYamlNamesFileLineColumn) {
  write(exp, "name: t\ntrain: {epochs: 2\n");
  auto msg = error_of([&] { compose_file(exp); });
  EXPECT_NE(msg.find(exp + ":"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
}

TEST_F(ConfigFixture, DuplicateKeyIsAnError) {
  write(exp, "name: t\nname: u\n");
  EXPECT_NE(error_of([&] { compose_file(exp); }).find(exp + ":2:1: duplicate key 'name'"), std::string::npos);
}

TEST_F(ConfigFixture, WrongTypeNamesTheKeyAndWhatWasExpected) {
  write(exp, "train:\n  epochs: three\n");
  Config c(compose_file(exp), "");
  int64_t epochs = 0;
  auto msg = error_of([&] { c.sub("train").read("epochs", epochs); });
  EXPECT_EQ(msg, exp + ":2:11: train.epochs: wrong type (got 'three', expected an integer)");
}

TEST_F(ConfigFixture, OutOfRangeStatesTheRange) {
  write(exp, "train:\n  lr: -1\n");
  Config c(compose_file(exp), "");
  double lr = 0;
  auto msg = error_of([&] { c.sub("train").read("lr", lr, Range::positive()); });
  EXPECT_EQ(msg, exp + ":2:7: train.lr: out of range (got -1, expected > 0)");
}

TEST_F(ConfigFixture, UnknownKeyIsRejectedWithDidYouMean) {
  write(exp, "train:\n  epochs: 2\n  bacth_size: 10\n");
  Config c(compose_file(exp), "");
  int64_t v = 0;
  c.sub("train").read("epochs", v);
  c.sub("train").read("batch_size", v);
  auto msg = error_of([&] { c.reject_unread_keys(); });
  EXPECT_EQ(msg, exp + ":3:15: unknown key 'bacth_size' in 'train' (known: batch_size, epochs); did you mean "
                       "'batch_size'?");
}

TEST_F(ConfigFixture, ChoiceMustBeKnown) {
  write(exp, "act: rleu\n");
  Config c(compose_file(exp), "");
  std::string act;
  auto msg = error_of([&] { c.read_choice("act", act, {"relu", "tanh"}); });
  EXPECT_NE(msg.find("expected one of: relu, tanh"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'relu'?"), std::string::npos) << msg;
}

TEST_F(ConfigFixture, MapWhereScalarExpected) {
  write(exp, "train: 3\n");
  Config c(compose_file(exp), "");
  auto msg = error_of([&] { c.sub("train"); });
  EXPECT_NE(msg.find("expected a map"), std::string::npos) << msg;
}

TEST_F(ConfigFixture, MissingFileIsAConfigError) {
  EXPECT_NE(error_of([&] { compose_file(dir / "nope.yaml"); }).find("cannot open config file"), std::string::npos);
}

TEST_F(ConfigFixture, ResolvedYamlRoundTripsAndHashIsStable) {
  auto root = compose_file(exp);
  auto text = to_yaml(root);
  auto again = parse_yaml_string(text, "resolved");
  EXPECT_EQ(to_yaml(again), text);
  EXPECT_EQ(spec_hash(again), spec_hash(root));
  apply_override(root, "train.epochs=3", conf, 1);
  EXPECT_NE(spec_hash(root), spec_hash(again));
}

TEST(DidYouMean, SuggestsOnlyCloseKeys) {
  EXPECT_EQ(did_you_mean("fgms", {"fgsm", "pwws"}), "; did you mean 'fgsm'?");
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"fgsm", "pwws"}), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
}
