// Text threats in suites: a text threat on image data (and an image threat on text data) is refused before
// any work with one line naming the entry, and a suite entry's own n_examples (the paper: attacks on 200
// AG News examples, corruptions on 1,000) overrides eval.n_examples without entering threat_params.
#include <gtest/gtest.h>


#include "core/errors.h"
#include "experiments/suite.h"
#include "tests/support/suite_helpers.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
using test::suite_from;

std::string refusal(const Suite& s, Modality m, const std::string& dataset) {
  try {
    check_fits(s, m, dataset);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(TextThreatFit, TextThreatsOnImageDataAreRefusedWithOneLine) {
  for (const std::string key : {"pwws", "ga", "word-mask", "shuffle"}) {
    auto s = suite_from("threats:\n  - {name: grey}\n  - {name: " + key + "}\n");
    auto msg = refusal(s, Modality::kImage, "cifar10");
    EXPECT_NE(msg.find("s.yaml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'" + key + "' does not apply to image data (dataset 'cifar10'; it takes text data)"),
              std::string::npos)
        << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "more than one line: " << msg;
    EXPECT_NO_THROW(check_fits(suite_from("threats:\n  - {name: " + key + "}\n"), Modality::kText, "ag-news"));
  }
  auto msg = refusal(single_threat_suite("fgsm", {}), Modality::kText, "ag-news");
  EXPECT_NE(msg.find("'fgsm' does not apply to text data"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(TextThreatFit, PerThreatExampleCounts) {
  auto s = suite_from(
      "eval: {n_examples: 1000}\n"
      "threats:\n  - {name: word-mask}\n  - {name: pwws, n_examples: 200}\n  - {name: ga, n_examples: [0, 50]}\n");
  EXPECT_EQ(s.n_examples, 1000);
  ASSERT_EQ(s.threats.size(), 4u);
  EXPECT_EQ(s.threats[0].n_examples, -1) << "none given: eval.n_examples applies";
  EXPECT_EQ(s.threats[1].n_examples, 200);
  EXPECT_EQ(s.threats[2].n_examples, 0);
  EXPECT_EQ(s.threats[3].n_examples, 50);
  EXPECT_EQ(s.threats[1].threat->params().find("n_examples"), std::string::npos) << s.threats[1].threat->params();
  EXPECT_EQ(single_threat_suite("pwws", {"threat.n_examples=200"}).threats[0].n_examples, 200);
  EXPECT_THROW(suite_from("threats:\n  - {name: pwws, n_examples: -1}\n"), ConfigError);
  EXPECT_THROW(suite_from("threats:\n  - {name: pwws, n_example: 200}\n"), ConfigError);
}
