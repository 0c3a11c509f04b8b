// Evaluation suites: list expansion, strict decoding, modality checks, and the committed table1 suite.
#include "experiments/suite.h"


#include "core/errors.h"
#include "tests/support/suite_helpers.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
using test::suite_from;
}  // namespace

TEST(Suite, ListValuesExpandToOneThreatPerValueInFileOrder) {
  auto s = suite_from("threats:\n  - {name: fgsm, eps: [0.01, 0.02, 0.03]}\n  - {name: grey}\n");
  ASSERT_EQ(s.threats.size(), 4u);
  EXPECT_EQ(s.threats[0].threat->params(), "eps=0.01");
  EXPECT_EQ(s.threats[2].threat->params(), "eps=0.03");
  EXPECT_EQ(s.threats[3].threat->key(), "grey");
  EXPECT_EQ(s.name, "s");  // the file stem names the output: eval/s.csv
  auto prod = suite_from("threats:\n  - {name: i-fgsm, eps: [0.01, 0.02], steps: [1, 2, 3]}\n");
  EXPECT_EQ(prod.threats.size(), 6u);
}

TEST(Suite, BadEntriesNameTheirLine) {
  for (const std::string& bad : {std::string("threats:\n  - {name: fgsm, eps: 3}\n"),
                                 std::string("threats:\n  - {name: fgsm, epz: 0.1}\n"),
                                 std::string("threats:\n  - {name: fgsn}\n"), std::string("threats: []\n"),
                                 std::string("threats:\n  - {name: fgsm}\nevals: {}\n"),
                                 std::string("threats:\n  - {name: fgsm, eps: []}\n")}) {
    try {
      suite_from(bad);
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("s.yaml:"), std::string::npos) << e.what();
    }
  }
}

TEST(Suite, ThreatsThatDoNotFitTheModalityAreRefusedBeforeAnyWork) {
  auto s = suite_from("threats:\n  - {name: gaussian}\n  - {name: fgsm}\n");
  EXPECT_NO_THROW(check_fits(s, Modality::kImage, "cifar10"));
  try {
    check_fits(s, Modality::kText, "ag-news");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("s.yaml:2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'gaussian' does not apply to text data"), std::string::npos) << msg;
  }
}

TEST(Suite, Table1HasThePapersColumnsAndSettings) {
  auto s = load_suite(find_suite(test::source_dir() + "/experiments/suites/table1.yaml"), {});
  std::vector<std::string> metrics;
  for (const auto& t : s.threats) metrics.push_back(t.threat->metric());
  EXPECT_EQ(metrics, (std::vector<std::string>{"Gaussian", "Uniform", "Poisson", "FGSM", "I-FGSM", "MI-FGSM", "Grey",
                                               "RanMask", "APGD-CE", "Square", "AutoAttack"}));
  // AutoAttack's attacks on the first 1,000 images; Square and AutoAttack stay out of the transfer rows.
  for (size_t i = 8; i < 11; ++i) EXPECT_EQ(s.threats[i].n_examples, 1000) << i;
  EXPECT_TRUE(s.threats[8].transfer);
  EXPECT_FALSE(s.threats[9].transfer);
  EXPECT_FALSE(s.threats[10].transfer);
  EXPECT_EQ(s.threats[3].threat->params(), "eps=0.03137254901960784");  // 8/255 (paper §4.2)
  EXPECT_NE(s.threats[4].threat->params().find("steps=5"), std::string::npos);
  EXPECT_EQ(s.n_examples, 0);  // the whole test set by default
  // FGSM, I-FGSM, MI-FGSM at 5 eps; APGD-CE also at 0.5; Poisson and Gaussian at CIFAR-10-C's 5 severities and 3 more
  ASSERT_EQ(s.sweep.size(), 5u + 5u + 5u + 6u + 8u + 8u);
  EXPECT_EQ(s.sweep[21].threat->params(), "rate=500");
  EXPECT_EQ(s.sweep[29].threat->metric(), "Gaussian");
  EXPECT_FALSE(s.noise);
  auto over = load_suite(find_suite("table1"), {"eval.n_examples=100"});
  EXPECT_EQ(over.n_examples, 100);
}

TEST(Suite, NoiseOnNeedsEotForGradientAttacks) {
  auto s = single_threat_suite("fgsm", {"eval.noise=on"});
  EXPECT_TRUE(s.noise);
  EXPECT_EQ(s.eot_iter, 20);
  EXPECT_EQ(s.noise_samples, 20);
  try {
    single_threat_suite("fgsm", {"eval.noise=on", "eval.eot_iter=1"});
    FAIL() << "a gradient attack on a noisy model without EOT was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("eval.eot_iter"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
  // Score-based attacks and corruptions take no gradient: no EOT needed.
  EXPECT_NO_THROW(single_threat_suite("square", {"eval.noise=on", "eval.eot_iter=1"}));
  EXPECT_NO_THROW(single_threat_suite("gaussian", {"eval.noise=on", "eval.eot_iter=1"}));
  EXPECT_THROW(single_threat_suite("fgsm", {"eval.noise=maybe"}), ConfigError);
}
