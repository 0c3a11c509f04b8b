// The claim rows and the conclusion sections (issue 33): the paper's own sentences recomputed from its table, our
// intervals, the verdicts, and the limitations a table states about itself.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "reports/claims.h"
#include "reports/conclusions.h"
#include "tests/unit/reports/fixtures.h"

using namespace lrb;
using namespace lrb::report_detail;
using lrb::report_test::TempDir;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Every sentence of `items` that contains `part`.
size_t count_with(const std::vector<std::string>& items, const std::string& part) {
  return static_cast<size_t>(std::count_if(items.begin(), items.end(), [&](const auto& s) { return contains(s, part); }));
}

void put(Gathered& g, const std::string& alg, const std::string& col, std::vector<double> acc, const std::string& n = "1000") {
  auto& c = g.cells[Key{"Net", alg, col}];
  c.acc = acc;
  c.acc_seed.clear();
  for (size_t i = 0; i < acc.size(); ++i) c.acc_seed.push_back(std::to_string(i));
  c.ns = {n};
}

ReportSpec net_spec(const std::string& claim_column = "FGSM") {
  ReportSpec s;
  s.models = {"Net"};
  s.algorithms = {"BP", "LR"};
  s.columns = {"Ori", "FGSM"};
  s.chance = 10;
  ClaimSpec c;
  c.says = "LR is more robust by 5%";
  c.value = 5, c.value_text = "5";
  c.algorithm = "LR", c.models = {"Net"}, c.columns = {claim_column};
  s.claims = {c};
  return s;
}

}  // namespace

// The paper's text against its own table, every claim the four report specs hold: the sentences that reproduce do so
// to the text's last decimal, and exactly the four that shared/paper/NOTES.md lists as irreproducible do not.
TEST(PaperClaims, RecomputeFromThePapersOwnTable) {
  const std::string dir = report_search_dirs().back();
  std::map<std::string, double> table;   // says -> the paper's table's value
  std::vector<std::string> off_text;
  size_t claims = 0;
  for (const char* name : {"table1", "table2", "table3", "table4"}) {
    const auto spec = ReportSpec::load(dir + "/" + name + ".yaml");
    const auto paper = load_paper(spec.paper_csv);
    for (const auto& c : spec.claims) {
      ++claims;
      const auto v = paper_claim(c, paper);
      ASSERT_TRUE(v.has_value()) << c.says;
      table[c.says] = *v;
      if (!text_matches_table(c, *v)) off_text.push_back(c.says);
    }
  }
  // Table 2's RanMask and PWWS sentences and Table 3's robustness ones twice: also on the protocol columns (<pad>,
  // OpenAttack's PWWS, the directed edge budget)
  EXPECT_EQ(claims, 17u);
  // "44.3% on adversarial examples": LR − BP summed over FGSM, I-FGSM, MI-FGSM is 247.1 − 114.9 on SNN-MNIST and
  // 216.8 − 83.0 on SNN-FashionMNIST: 266.0 over 6 cells.
  EXPECT_NEAR(table.at("and 44.3% on adversarial examples"), 266.0 / 6.0, 1e-9);
  EXPECT_NEAR(table.at("2.63% under the Shuffle corruption"), 7.9 / 3.0, 1e-9);
  EXPECT_NEAR(table.at("an average of 4.3% improvement for GCN"), 4.3, 1e-9);
  EXPECT_NEAR(table.at("a performance gap of 4.8% for GCN"), -4.8, 1e-9);
  std::sort(off_text.begin(), off_text.end());
  EXPECT_EQ(off_text, (std::vector<std::string>{
                          "a minor drop of 2.6% for VGG-8",
                          "a significant improvement in the adversarial robustness of 8.1% on average",
                          "an average improvement of 1.55% on two clean datasets",
                          "improve the performance of RNN significantly by 5.5%"}));
  EXPECT_NEAR(table.at("a significant improvement in the adversarial robustness of 8.1% on average"), 5.633333, 1e-5);
}

TEST(PaperClaims, TextMatchesTableToTheTextsDecimals) {
  ClaimSpec c;
  c.value = 2.63, c.value_text = "2.63";
  EXPECT_TRUE(text_matches_table(c, 2.6333));
  EXPECT_FALSE(text_matches_table(c, 2.64));
  c.value = 44.3, c.value_text = "44.3";
  EXPECT_TRUE(text_matches_table(c, 44.3333));
  EXPECT_FALSE(text_matches_table(c, 44.36));
  c.value = -2.6, c.value_text = "-2.6";
  EXPECT_FALSE(text_matches_table(c, -2.5));
  EXPECT_EQ(text_value(c), "−2.6");
}

// Three seeds in every cell: a t interval over the per-seed claim values. Per seed LR − BP = 10, 12, 14: mean 12,
// sample std 2, half-width t(0.975, 2) · 2 / √3 = 4.303 · 1.1547.
TEST(ClaimRows, TIntervalOverCommonSeeds) {
  Gathered g;
  put(g, "BP", "Ori", {80, 80, 80}), put(g, "LR", "Ori", {79, 80, 81});
  put(g, "BP", "FGSM", {20, 20, 20}), put(g, "LR", "FGSM", {30, 32, 34});
  const auto rows = claim_rows(net_spec(), g);
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(rows[0].ours && rows[0].interval);
  EXPECT_NEAR(*rows[0].ours, 12, 1e-9);
  const double half = 4.303 * 2 / std::sqrt(3.0);
  EXPECT_NEAR(rows[0].interval->lo, 12 - half, 1e-9);
  EXPECT_NEAR(rows[0].interval->hi, 12 + half, 1e-9);
  EXPECT_EQ(rows[0].interval->method, "t over 3 seeds");
  EXPECT_TRUE(rows[0].confounded.empty());  // clean accuracies 80 and 80
  // No paper table here: the direction compared with is the text's (+5), outside [12 ± 4.97].
  EXPECT_EQ(claim_verdict(rows[0]), "LR above BP: the paper's direction; the paper's +5.00 is outside our interval");
}

// One seed: the binomial error of each cell's n test examples. LR 30 % and BP 20 % of 1,000: half-width
// 1.96 · 100 · √(0.3·0.7/1000 + 0.2·0.8/1000).
TEST(ClaimRows, BinomialIntervalWithOneSeed) {
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {81});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {30});
  g.paper[Key{"Net", "BP", "FGSM"}] = PaperValue{"40.0", 40}, g.paper[Key{"Net", "LR", "FGSM"}] = PaperValue{"45.0", 45};
  const auto rows = claim_rows(net_spec(), g);
  ASSERT_TRUE(rows[0].interval);
  const double half = 1.96 * 100 * std::sqrt(0.21 / 1000 + 0.16 / 1000);
  EXPECT_NEAR(rows[0].interval->hi - rows[0].interval->lo, 2 * half, 1e-9);
  EXPECT_TRUE(contains(rows[0].interval->method, "binomial over 1000 test examples")) << rows[0].interval->method;
  EXPECT_NEAR(*rows[0].paper_table, 5, 1e-9);
  // 10 ± 3.77 holds the paper's +5? No: 6.23 is the lower end.
  EXPECT_EQ(claim_verdict(rows[0]), "LR above BP: the paper's direction; the paper's +5.00 is outside our interval");
}

TEST(ClaimRows, VerdictsReverseUnclearConfoundedAndMissing) {
  Gathered g;
  g.paper[Key{"Net", "BP", "FGSM"}] = PaperValue{"40.0", 40}, g.paper[Key{"Net", "LR", "FGSM"}] = PaperValue{"45.0", 45};
  put(g, "BP", "Ori", {66}), put(g, "LR", "Ori", {38});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {10});
  auto row = claim_rows(net_spec(), g)[0];
  EXPECT_TRUE(contains(claim_verdict(row), "LR below BP: the reverse of the paper's direction")) << claim_verdict(row);
  ASSERT_EQ(row.confounded.size(), 1u);
  EXPECT_EQ(row.confounded[0], "Net: LR 38.00 vs BP 66.00");
  EXPECT_TRUE(contains(claim_verdict(row), "confounded by clean accuracy"));
  // A clean-accuracy claim is not confounded by clean accuracy.
  EXPECT_TRUE(claim_rows(net_spec("Ori"), g)[0].confounded.empty());

  put(g, "LR", "FGSM", {20.5});
  row = claim_rows(net_spec(), g)[0];
  EXPECT_TRUE(contains(claim_verdict(row), "cannot tell LR from BP")) << claim_verdict(row);

  g.cells.erase(Key{"Net", "LR", "FGSM"});
  row = claim_rows(net_spec(), g)[0];
  EXPECT_FALSE(row.ours);
  EXPECT_EQ(row.missing, (std::vector<std::string>{"Net LR FGSM"}));
  EXPECT_TRUE(contains(claim_verdict(row), "no result"));
}

TEST(Conclusions, StateTheConfoundsTheTableHas) {
  Gathered g;
  put(g, "BP", "Ori", {66}), put(g, "LR", "Ori", {38});
  put(g, "BP", "FGSM", {20}, "1000"), put(g, "LR", "FGSM", {10}, "500");
  auto spec = net_spec();
  spec.test_examples = 1000;
  auto c = conclusions(spec, g, claim_rows(spec, g));
  EXPECT_EQ(count_with(c.shows, "The paper's \"LR is more robust by 5%\""), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "Net LR against BP: clean accuracy 38.00 vs 66.00 (−28.00 pp"), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "for Net LR (no BP+noise row)"), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "1 of 2 rows") + count_with(c.cannot_show, "2 of 2 rows"), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "for FGSM: measured on 500 of the 1000 examples"), 1u);

  // Matched clean accuracy, the noise control present, three seeds, the whole test set: none of those sentences.
  Gathered h;
  put(h, "BP", "Ori", {80, 80, 80}), put(h, "LR", "Ori", {79, 80, 81});
  put(h, "BP", "FGSM", {20, 20, 20}), put(h, "LR", "FGSM", {30, 32, 34});
  put(h, "BP+noise", "Ori", {80});
  c = conclusions(spec, h, claim_rows(spec, h));
  EXPECT_TRUE(c.cannot_show.empty()) << c.cannot_show.front();
  EXPECT_TRUE(contains(conclusions_markdown(c), kNoLimitationFound));
}

TEST(Conclusions, NearChanceRowsAreNamedNotCompared) {
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {12});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {11});
  const auto c = conclusions(net_spec(), g, {});
  EXPECT_EQ(count_with(c.cannot_show, "within 5 pp of chance"), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "against BP: clean accuracy"), 0u);  // said once, as near chance
}

TEST(ReportSpecClaims, LoadValidatesEveryField) {
  TempDir d;
  const std::string head = "title: x\nsuite: s\nmodels: [M]\nalgorithms: [BP, LR]\ncolumns: [Ori, FGSM]\n";
  write_text_atomic(d / "ok.yaml", head + "claims:\n  - {says: \"by 2.50%\", value: 2.50, algorithm: LR, columns: [FGSM]}\n");
  const auto spec = ReportSpec::load(d / "ok.yaml");
  ASSERT_EQ(spec.claims.size(), 1u);
  EXPECT_EQ(spec.claims[0].baseline, "BP");
  EXPECT_EQ(spec.claims[0].models, (std::vector<std::string>{"M"}));  // default: every model
  EXPECT_EQ(text_value(spec.claims[0]), "+2.50");

  auto message = [&](const std::string& claim) {
    write_text_atomic(d / "bad.yaml", head + "claims:\n  - " + claim + "\n");
    try {
      ReportSpec::load(d / "bad.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: ES, columns: [FGSM]}"), "claims[0].algorithm"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: LR, columns: [PGD]}"), "claims[0].columns"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: LR, models: [N], columns: [FGSM]}"), "claims[0].models"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: BP, columns: [FGSM]}"), "claims[0].baseline"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: LR, columns: [FGSM], colour: red}"), "unknown key 'colour'"));
  EXPECT_TRUE(contains(message("{value: 1, algorithm: LR, columns: [FGSM]}"), "claims[0].says"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: LR, columns: [FGSM], ours_on: [PGD]}"), "claims[0].ours_on"));
  EXPECT_TRUE(contains(message("{says: x, value: 1, algorithm: LR, columns: [FGSM], ours_on: [Ori, FGSM]}"),
                       "claims[0].ours_on"));
}

// A table with one of the claim's two models (an audit that cuts the other): the row over both has no result, and
// a second row gives the sentence over the model it has, the paper's table over that model too.
TEST(ClaimRows, OverTheModelsTheTableHasWhenOthersAreMissing) {
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {81});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {30});
  g.paper[Key{"Net", "BP", "FGSM"}] = PaperValue{"40.0", 40}, g.paper[Key{"Net", "LR", "FGSM"}] = PaperValue{"45.0", 45};
  g.paper[Key{"Other", "BP", "FGSM"}] = PaperValue{"40.0", 40}, g.paper[Key{"Other", "LR", "FGSM"}] = PaperValue{"41.0", 41};
  auto spec = net_spec();
  spec.models = {"Net", "Other"};
  spec.claims[0].models = {"Net", "Other"};
  const auto rows = claim_rows(spec, g);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[0].ours);
  EXPECT_FALSE(rows[0].subset);
  EXPECT_NEAR(*rows[0].paper_table, 3, 1e-9);
  EXPECT_TRUE(rows[1].subset);
  EXPECT_EQ(rows[1].claim.models, (std::vector<std::string>{"Net"}));
  ASSERT_TRUE(rows[1].ours);
  EXPECT_NEAR(*rows[1].ours, 10, 1e-9);
  EXPECT_NEAR(*rows[1].paper_table, 5, 1e-9);
  EXPECT_EQ(claim_cells(rows[1])[0], "LR is more robust by 5% (on the models this table has)");
  EXPECT_EQ(claim_cells(rows[1])[3], "+5 (over all its models)");
  EXPECT_EQ(claim_cells(rows[1])[4], "+5.00") << "no '≠ text' mark: the text is over both models";
  // Nothing to add where every model has its cells, or none has.
  EXPECT_EQ(claim_rows(net_spec(), g).size(), 1u);
  spec.claims[0].columns = {"I-FGSM"};
  EXPECT_EQ(claim_rows(spec, g).size(), 1u);
}

// ours_on: the same sentence measured on another of our columns; the paper's value stays on the claim's columns.
TEST(ClaimRows, OursOnAnotherColumnPaperOnItsOwn) {
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {81});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {30});
  put(g, "BP", "FGSM-x", {20}), put(g, "LR", "FGSM-x", {17});
  g.paper[Key{"Net", "BP", "FGSM"}] = PaperValue{"40.0", 40}, g.paper[Key{"Net", "LR", "FGSM"}] = PaperValue{"45.0", 45};
  auto spec = net_spec();
  spec.columns.push_back("FGSM-x");
  spec.claims[0].ours_on = {"FGSM-x"};
  const auto rows = claim_rows(spec, g);
  ASSERT_TRUE(rows[0].ours && rows[0].paper_table);
  EXPECT_NEAR(*rows[0].ours, -3, 1e-9);
  EXPECT_NEAR(*rows[0].paper_table, 5, 1e-9);
  EXPECT_EQ(claim_cells(rows[0])[2], "Net × FGSM (ours: FGSM-x)");
}

// Both outputs end with the two conclusion sections and carry the claim and retention tables.
TEST(Conclusions, MarkdownAndHtmlEndWithThem) {
  TempDir d;
  report_test::make_runs(d);
  auto spec = report_test::make_spec(d);
  ClaimSpec c;
  c.says = "LR-WL is more robust", c.value = 1, c.value_text = "1", c.algorithm = "LR-WL", c.models = {"ResNet-5"};
  c.columns = {"FGSM"};
  spec.claims = {c};
  auto opt = report_test::options(d, "");
  opt.html = true;
  const auto res = make_report(spec, opt);
  const std::string& md = res.markdown;
  const auto shows = md.find("\n## What this table shows\n"), cannot = md.find("\n## What it cannot show\n");
  ASSERT_NE(shows, std::string::npos);
  ASSERT_NE(cannot, std::string::npos);
  EXPECT_LT(shows, cannot);
  EXPECT_EQ(md.find("\n## ", cannot + 1), std::string::npos) << "a section after the conclusions";
  EXPECT_TRUE(contains(md, "\n## The paper's claims\n"));
  EXPECT_TRUE(contains(md, "| LR-WL is more robust | LR-WL − BP | ResNet-5 × FGSM | +1 |"));
  EXPECT_TRUE(contains(md, "| ResNet-5 | LR-WL | 50.2 (15.5) | — |"));  // 21.00 / 41.80 ours, 10.0 / 64.4 paper

  const auto html = read_text(write_html_report(spec, opt, res, {}).path);
  const auto h_shows = html.find("<h2 id=\"shows\">"), h_cannot = html.find("<h2 id=\"cannot-show\">");
  ASSERT_NE(h_shows, std::string::npos);
  ASSERT_NE(h_cannot, std::string::npos);
  EXPECT_LT(h_shows, h_cannot);
  EXPECT_EQ(html.find("<h2 ", h_cannot + 1), std::string::npos);
  EXPECT_TRUE(contains(html, "<table id=\"claims-table\">"));
  EXPECT_TRUE(contains(html, "<table id=\"retention-table\">"));
}

// Rows "BP (matched to LR)": the claim recomputed against them, and the confound sentence replaced by a comparison.
TEST(ClaimRows, AgainstTheMatchedBaselineWhereEveryCellHasOne) {
  Gathered g;
  put(g, "BP", "Ori", {66}), put(g, "LR", "Ori", {38});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {10});
  put(g, "BP (matched to LR)", "Ori", {38.5}), put(g, "BP (matched to LR)", "FGSM", {4});
  g.transfer_modes.insert("matched to LR");
  const auto spec = net_spec();
  const auto row = claim_rows(spec, g)[0];
  ASSERT_TRUE(row.matched && row.matched_interval);
  EXPECT_NEAR(*row.matched, 6, 1e-9);  // LR 10 − matched BP 4
  EXPECT_TRUE(contains(claim_verdict(row), "at matched clean accuracy LR above BP")) << claim_verdict(row);
  EXPECT_EQ(claim_cells(row).size(), kClaimHeader.size());
  const auto c = conclusions(spec, g, {row});
  EXPECT_EQ(count_with(c.shows, "Net LR against BP at matched clean accuracy: the row BP (matched to LR)"), 1u);
  EXPECT_EQ(count_with(c.cannot_show, "Net LR against BP: clean accuracy"), 0u);
}

// The report reads RUN/eval/<suite>.matched-<trainer>.csv (lrbench eval --match) as rows "BP (matched to ALG)".
TEST(Conclusions, ReportReadsMatchedFiles) {
  TempDir d;
  report_test::make_runs(d);
  report_test::Row ori{"ResNet-5", "BP", "Ori", "41.00", "0"}, fgsm{"ResNet-5", "BP", "FGSM", "5.00", "0"};
  ori.mode = fgsm.mode = "matched to LR-WL";
  report_test::write_eval(d / "runs/resnet5_bp_s0/eval/table1.matched-lr-wl.csv", {ori, fgsm});
  const auto res = make_report(report_test::make_spec(d), report_test::options(d, ""));
  EXPECT_TRUE(contains(res.markdown, "| ResNet-5 | BP (matched to LR-WL) | 41.00 | 5.00 | — |")) << res.markdown;
  EXPECT_TRUE(contains(res.markdown, kMatchedRowsNote));
  EXPECT_FALSE(contains(res.markdown, "Rows \"ALG (transfer from SRC)\""));
  EXPECT_FALSE(contains(res.markdown, "its snapshot was chosen")) << "no .json beside the rows: nothing to say";
}

// The matched choice's split (the .json beside the rows) against the examples the rows are scored on (n = 1,000
// in these fixtures): the last test examples say nothing, a split that holds scored examples gets a sentence.
TEST(Conclusions, MatchedChoiceOnScoredExamplesIsNamed) {
  for (const auto& [split, sentence] : std::vector<std::pair<std::string, std::string>>{
           {"test[8000:10000]", ""},
           {"validation", ""},
           {"test[:2000]", "ResNet-5 BP (matched to LR-WL): its snapshot was chosen by clean accuracy on test[:2000], "
                           "which holds 1000 of the 1000 test examples the row is scored on"},
           {"test[600:10000]", "on test[600:10000], which holds 400 of the 1000"}}) {
    TempDir d;
    report_test::make_runs(d);
    report_test::Row ori{"ResNet-5", "BP", "Ori", "41.00", "0"}, fgsm{"ResNet-5", "BP", "FGSM", "5.00", "0"};
    ori.mode = fgsm.mode = "matched to LR-WL";
    report_test::write_eval(d / "runs/resnet5_bp_s0/eval/table1.matched-lr-wl.csv", {ori, fgsm});
    write_text_atomic(d / "runs/resnet5_bp_s0/eval/table1.matched-lr-wl.json",
                      fmt::format("{{\"matched\": true, \"split\": \"{}\"}}\n", split));
    const auto res = make_report(report_test::make_spec(d), report_test::options(d, ""));
    if (sentence.empty())
      EXPECT_FALSE(contains(res.markdown, "its snapshot was chosen")) << split;
    else
      EXPECT_TRUE(contains(res.markdown, sentence)) << split << "\n" << res.markdown;
  }
}

// Several cells: the mean over them, a model's columns as fully correlated (their standard deviations add), models
// as independent (variances add). LR 30/40 against BP 20/20 on 1,000 examples each.
TEST(ClaimRows, BinomialIntervalOverSeveralCells) {
  const double sd1 = std::sqrt(0.21 / 1000 + 0.16 / 1000), sd2 = std::sqrt(0.24 / 1000 + 0.16 / 1000);
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {81});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {30});
  put(g, "BP", "I-FGSM", {20}), put(g, "LR", "I-FGSM", {40});
  auto spec = net_spec();
  spec.columns = {"Ori", "FGSM", "I-FGSM"};
  spec.claims[0].columns = {"FGSM", "I-FGSM"};
  auto row = claim_rows(spec, g)[0];
  EXPECT_NEAR(*row.ours, 15, 1e-9);
  EXPECT_NEAR(row.interval->hi - *row.ours, 1.96 * 100 * (sd1 + sd2) / 2, 1e-9);

  // The same two differences on two models, one column each: independent.
  Gathered h;
  for (const char* m : {"A", "B"}) {
    const bool a = std::string(m) == "A";
    for (const auto& [alg, acc] : std::vector<std::pair<std::string, double>>{{"BP", 20}, {"LR", a ? 30.0 : 40.0}}) {
      auto& c = h.cells[Key{m, alg, "FGSM"}];
      c.acc = {acc}, c.acc_seed = {"0"}, c.ns = {"1000"};
    }
  }
  spec = net_spec();
  spec.models = {"A", "B"};
  spec.claims[0].models = {"A", "B"};
  row = claim_rows(spec, h)[0];
  EXPECT_NEAR(row.interval->hi - *row.ours, 1.96 * 100 * std::sqrt(sd1 * sd1 + sd2 * sd2) / 2, 1e-9);
}

// Seeds the cells do not all share: no t interval, and the label says why.
TEST(ClaimRows, SeedsNotSharedFallBackToTheBinomialInterval) {
  Gathered g;
  put(g, "BP", "FGSM", {20, 22}), put(g, "LR", "FGSM", {30, 31});
  g.cells[Key{"Net", "BP", "FGSM"}].acc_seed = {"0", "2"};  // LR has seeds 0 and 1
  const auto row = claim_rows(net_spec(), g)[0];
  ASSERT_TRUE(row.interval);
  EXPECT_NEAR(*row.ours, 9.5, 1e-9);
  EXPECT_TRUE(contains(row.interval->method, "seeds not shared by every cell")) << row.interval->method;
}

TEST(ClaimRows, AgainstTheNoiseControl) {
  Gathered g;
  put(g, "BP", "Ori", {80}), put(g, "LR", "Ori", {80});
  put(g, "BP", "FGSM", {20}), put(g, "LR", "FGSM", {30}), put(g, "BP+noise", "FGSM", {29.5});
  const auto row = claim_rows(net_spec(), g)[0];
  ASSERT_TRUE(row.control && row.control_interval);
  EXPECT_NEAR(*row.control, 0.5, 1e-9);
  EXPECT_TRUE(contains(claim_verdict(row), "cannot tell LR from BP+noise")) << claim_verdict(row);
  EXPECT_EQ(noise_control_of("LR-WL"), "BP+noise-WL");
  EXPECT_EQ(noise_control_of("ES"), "");
}

// Names the report renames (algorithm_names {LR-L: LR}) are renamed inside a mode too: the CSV's "matched to LR-L"
// is the row "BP (matched to LR)" that the claim rows look for.
TEST(ClaimRows, MatchedRowsUnderTheReportsNames) {
  TempDir d;
  using report_test::Row;
  auto row = [](const char* alg, const char* metric, const char* acc, const char* mode = "white-box") {
    Row r{"ResNet-5", alg, metric, acc, "0"};
    r.mode = mode;
    return r;
  };
  report_test::write_eval(d / "runs/bp/eval/table1.csv", {row("BP", "Ori", "70.00"), row("BP", "FGSM", "10.00")});
  report_test::write_eval(d / "runs/lr/eval/table1.csv", {row("LR-L", "Ori", "40.00"), row("LR-L", "FGSM", "20.00")});
  report_test::write_eval(d / "runs/bp/eval/table1.matched-lr-l.csv",
                          {row("BP", "Ori", "40.50", "matched to LR-L"), row("BP", "FGSM", "12.00", "matched to LR-L")});
  auto spec = report_test::make_spec(d);
  spec.models = {"ResNet-5"};
  spec.algorithms = {"BP", "LR"};
  spec.algorithm_names = {{"LR-L", "LR"}};
  spec.columns = {"Ori", "FGSM"};
  ClaimSpec c;
  c.says = "x", c.value = 1, c.value_text = "1", c.algorithm = "LR", c.models = {"ResNet-5"}, c.columns = {"FGSM"};
  spec.claims = {c};
  const auto res = make_report(spec, report_test::options(d, ""));
  const auto rows = claim_rows(spec, *res.gathered);
  ASSERT_TRUE(rows[0].matched) << res.markdown;
  EXPECT_NEAR(*rows[0].matched, 8, 1e-9);
  EXPECT_TRUE(contains(res.markdown, "| ResNet-5 | BP (matched to LR) | 40.50 | 12.00 |")) << res.markdown;
}
