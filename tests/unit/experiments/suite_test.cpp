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
                                               "RanMask"}));
  EXPECT_EQ(s.threats[3].threat->params(), "eps=0.03137254901960784");  // 8/255 (paper §4.2)
  EXPECT_NE(s.threats[4].threat->params().find("steps=5"), std::string::npos);
  EXPECT_EQ(s.n_examples, 0);  // the whole test set by default
  EXPECT_EQ(s.sweep.size(), 5u);
  auto over = load_suite(find_suite("table1"), {"eval.n_examples=100"});
  EXPECT_EQ(over.n_examples, 100);
}
