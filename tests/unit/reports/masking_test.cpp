// Masking checks (reports/masking.h): each check on hand-made cells, and end to end on real attacks — a
// deliberately masked model (its forward quantises the input of some examples, so their input gradient is
// exactly zero) triggers checks 1 and 4, the same model unmasked triggers none.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/seed.h"
#include "reports/masking.h"
#include "tests/unit/threats/threat_test_util.h"
#include "threats/victim.h"

using namespace lrb;
using namespace lrb::report_detail;
using namespace lrb::test;

namespace {

ReportSpec spec() {
  ReportSpec s;
  s.name = "t";
  s.models = {"M"};
  s.algorithms = {"BP", "LR"};
  s.columns = {"Ori", "FGSM", "I-FGSM", "MI-FGSM", "APGD-CE", "Square"};
  s.chance = 10;
  s.sweep_param = "eps";
  return s;
}

void put(Gathered& g, const std::string& row, const std::string& metric, double acc) {
  auto& c = g.cells[Key{"M", row, metric}];
  c.acc.push_back(acc);
  c.acc_seed.push_back("0");
  c.ns.insert("500");
}

std::vector<int> checks_of(const std::vector<MaskingFinding>& f, const std::string& row) {
  std::vector<int> out;
  for (const auto& x : f)
    if (x.row == row) out.push_back(x.check);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// A consistent row: clean 80, each stronger attack lower, Square above the white-box attacks.
void healthy(Gathered& g, const std::string& row) {
  put(g, row, "Ori", 80), put(g, row, "FGSM", 30), put(g, row, "I-FGSM", 20), put(g, row, "MI-FGSM", 21);
  put(g, row, "APGD-CE", 15), put(g, row, "Square", 40);
}

TEST(Masking, AHealthyTableTriggersNothing) {
  Gathered g;
  healthy(g, "BP"), healthy(g, "LR");
  EXPECT_TRUE(masking_findings(spec(), g).empty());
  EXPECT_TRUE(near_chance_rows(spec(), g).empty());
}

TEST(Masking, EachCheckNamesItsCellAndNumbers) {
  Gathered g;
  healthy(g, "BP");
  put(g, "LR", "Ori", 13), put(g, "LR", "FGSM", 30), put(g, "LR", "I-FGSM", 31), put(g, "LR", "MI-FGSM", 29);
  put(g, "LR", "APGD-CE", 31.5), put(g, "LR", "Square", 12);
  g.cells[Key{"M", "LR", "FGSM"}].zero_grad_examples = 26, g.cells[Key{"M", "LR", "FGSM"}].grad_examples = 500;
  g.sweep = {{"M", "LR", "FGSM", "eps", "0.01", 0.01, 40, "0"}, {"M", "LR", "FGSM", "eps", "0.1", 0.1, 35, "0"},
             {"M", "LR", "FGSM", "eps", "0.2", 0.2, 38, "0"}, {"M", "LR", "FGSM", "eps", "0.5", 0.5, 20, "0"}};
  auto f = masking_findings(spec(), g);
  EXPECT_EQ(checks_of(f, "LR"), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(checks_of(f, "BP").empty());
  std::string all;
  for (const auto& x : f) all += x.text + "\n";
  EXPECT_NE(all.find("Square (black-box) leaves 12.00 %, below the strongest white-box attack (MI-FGSM 29.00 %)"),
            std::string::npos) << all;
  EXPECT_NE(all.find("I-FGSM leaves 31.00 %, above FGSM's 30.00 %"), std::string::npos) << all;
  EXPECT_NE(all.find("APGD-CE leaves 31.50 %, above I-FGSM's 31.00 %"), std::string::npos) << all;
  EXPECT_NE(all.find("26 of 500 examples (5.2 %)"), std::string::npos) << all;
  EXPECT_NE(all.find("rises from 35.00 % to 38.00 %"), std::string::npos) << all;
  EXPECT_NE(all.find("leaves 20.00 % at eps 0.5"), std::string::npos) << all;
  EXPECT_NE(all.find("clean accuracy 13.00 % is within 5 pp of chance"), std::string::npos) << all;
  EXPECT_EQ(near_chance_rows(spec(), g), (std::set<std::pair<std::string, std::string>>{{"M", "LR"}}));
}

TEST(Masking, ThresholdsAreStrictInDecimal) {
  Gathered g;
  healthy(g, "BP");
  g.sweep = {{"M", "BP", "APGD-CE", "eps", "0.2", 0.2, 13.6, "0"}, {"M", "BP", "APGD-CE", "eps", "0.5", 0.5, 13.8, "0"}};
  auto f = masking_findings(spec(), g);
  ASSERT_EQ(f.size(), 1u) << "13.6 -> 13.8 is exactly the 0.2 pp tolerance; only the 5 % floor at eps 0.5 applies";
  EXPECT_NE(f[0].text.find("leaves 13.80 % at eps 0.5"), std::string::npos) << f[0].text;
}

TEST(Masking, ThresholdsAreStrict) {
  Gathered g;
  put(g, "BP", "Ori", 15.0), put(g, "BP", "FGSM", 30), put(g, "BP", "I-FGSM", 30.125), put(g, "BP", "Square", 29.875);
  g.cells[Key{"M", "BP", "FGSM"}].zero_grad_examples = 25, g.cells[Key{"M", "BP", "FGSM"}].grad_examples = 500;
  EXPECT_TRUE(masking_findings(spec(), g).empty()) << "15 % is 5 pp above chance; 0.1 pp and 5 % are within the tolerances";
}

TEST(Masking, TransferBelowWhiteBoxIsCheck1) {
  Gathered g;
  healthy(g, "LR");
  g.transfer_modes.insert("transfer from BP");
  put(g, "LR (transfer from BP)", "FGSM", 25);
  auto f = masking_findings(spec(), g);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].check, 1);
  EXPECT_NE(f[0].text.find("FGSM transfer from BP leaves 25.00 %, below the white-box FGSM"), std::string::npos);
}

// Cells on different numbers of examples (AutoAttack's attacks on 1,000 images, the rest on 2,000) differ by
// sampling alone: 1.5 pp at p = 0.5 is within two standard errors (2.2 pp) of the nested subsample, 3 pp is not.
TEST(Masking, DifferentExampleCountsWidenTheTolerance) {
  auto table = [](double apgd_on_1000) {
    Gathered g;
    auto with_n = [&](const std::string& metric, double acc, const char* n) {
      put(g, "BP", metric, acc);
      g.cells[Key{"M", "BP", metric}].ns = {n};
    };
    with_n("Ori", 80, "2000"), with_n("FGSM", 50, "2000"), with_n("I-FGSM", 50, "2000");
    with_n("APGD-CE", apgd_on_1000, "1000"), with_n("Square", 48.5, "1000");
    return masking_findings(spec(), g);
  };
  EXPECT_TRUE(table(51.5).empty());
  auto f = table(53);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].check, 3);
}

// The eps-0.5 floor is for white-box attacks: a transfer series may stay above it. Rows with the noise kept on
// (eval.noise) are white-box rows and are checked.
TEST(Masking, FloorIsWhiteBoxOnlyAndNoiseRowsAreChecked) {
  Gathered g;
  healthy(g, "BP");
  g.transfer_modes.insert("transfer from BP");
  g.sweep = {{"M", "LR (transfer from BP)", "APGD-CE", "eps", "0.1", 0.1, 30, "0"},
             {"M", "LR (transfer from BP)", "APGD-CE", "eps", "0.5", 0.5, 20, "0"}};
  EXPECT_TRUE(masking_findings(spec(), g).empty());
  const std::string noisy = "LR (noise on: 20 samples, EOT 20)";
  g.transfer_modes.insert("noise on: 20 samples, EOT 20");
  put(g, noisy, "Ori", 70), put(g, noisy, "FGSM", 30), put(g, noisy, "Square", 20);
  auto f = masking_findings(spec(), g);
  EXPECT_EQ(checks_of(f, noisy), (std::vector<int>{1}));
}

// Examples whose mean pixel is above 0.5 go through a 1/64 quantiser (no gradient): the gradient attacks cannot
// move them, a score-based attack can (each pixel step of eps = 8/255 crosses a quantisation level).
class HalfMaskedNet : public TinyConvNet {
 public:
  explicit HalfMaskedNet(TinyConvNet& base, bool mask) : base_(base), mask_(mask) {}
  torch::Tensor forward(const Batch& b) override {
    if (!mask_) return base_.forward(b);
    auto gate = b.x.detach().flatten(1).mean(1).gt(0.5).to(b.x.scalar_type()).view({-1, 1, 1, 1});
    Batch q = b;
    q.x = gate * (torch::round(b.x.detach() * 64) / 64) + (1 - gate) * b.x;
    return base_.forward(q);
  }

 private:
  TinyConvNet& base_;
  bool mask_;
};

struct Measured {
  double clean, fgsm, ifgsm, square;
  int64_t zero, n;
};

Measured measure(ClassifierImpl& m, const Batch& test) {
  Measured r{};
  r.clean = 100 * accuracy(m, test);
  auto run = [&](const std::string& yaml, bool count) {
    auto a = make_as<Attack>(yaml);
    auto gen = make_generator(0);
    Victim v(m);
    auto adv = a->perturb(v, test, gen);
    if (count) r.zero = v.zero_gradient_examples(), r.n = v.gradient_examples();
    return 100 * accuracy(m, adv);
  };
  r.fgsm = run("name: fgsm", true);
  r.ifgsm = run("name: i-fgsm", false);
  r.square = run("name: square\nn_queries: 5000", false);
  return r;
}

TEST(Masking, AMaskedModelTriggersChecks1And4AndTheSameModelUnmaskedNone) {
  auto& t = trained();
  Gathered g;
  std::string measured;
  for (bool mask : {false, true}) {
    HalfMaskedNet net(*t.model, mask);
    const std::string row = mask ? "LR" : "BP";
    auto r = measure(net, t.test);
    put(g, row, "Ori", r.clean), put(g, row, "FGSM", r.fgsm), put(g, row, "I-FGSM", r.ifgsm);
    put(g, row, "Square", r.square);
    g.cells[Key{"M", row, "FGSM"}].zero_grad_examples = r.zero;
    g.cells[Key{"M", row, "FGSM"}].grad_examples = r.n;
    measured += (row + ": clean " + std::to_string(r.clean) + " FGSM " + std::to_string(r.fgsm) + " I-FGSM " +
                 std::to_string(r.ifgsm) + " Square " + std::to_string(r.square) + " zero-gradient examples " + std::to_string(r.zero)) + "\n";
  }
  auto f = masking_findings(spec(), g);
  std::string all;
  for (const auto& x : f) all += x.text + "\n";
  EXPECT_TRUE(checks_of(f, "BP").empty()) << measured << all;
  EXPECT_EQ(checks_of(f, "LR"), (std::vector<int>{1, 4})) << measured << all;
}

}  // namespace
