// make_report on synthetic run folders: pivot shape, seed statistics, paper join, errors, atomic output.
#include "reports/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "tests/unit/reports/fixtures.h"

using namespace lrb;
using namespace lrb::report_test;
namespace fs = std::filesystem;

TEST(Report, LongTableHasOneRowPerCellInPrintOrder) {
  TempDir d;
  make_runs(d);
  auto res = make_report(make_spec(d), options(d));
  const auto& rows = res.long_table.rows();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(res.long_table.header(),
            (std::vector<std::string>{"model", "algorithm", "metric", "accuracy", "paper", "delta", "n", "seeds",
                                      "std", "dataset", "threat_params", "git_commit", "mode", "per_seed"}));
  std::vector<std::string> order;
  for (const auto& r : rows) order.push_back(r[0] + "/" + r[1] + "/" + r[2]);
  EXPECT_EQ(order, (std::vector<std::string>{"ResNet-5/LR-WL/Ori", "ResNet-5/LR-WL/FGSM", "VGG-8/BP/Ori",
                                             "VGG-8/BP/FGSM", "VGG-8/BP/Grey"}));
  EXPECT_EQ(res.cells_missing, 2 * 2 * 3 - 5);
  // The metric the spec does not list is reported, not silently dropped.
  ASSERT_FALSE(res.notes.empty());
  EXPECT_NE(res.notes[0].find("VGG-8/BP/Shuffle"), std::string::npos);
  // What was written is what was returned.
  auto saved = CsvTable::load(d / "out/t1.csv");
  EXPECT_EQ(saved.rows(), rows);
}

TEST(Report, MeanStdSeedsAndPaperJoin) {
  TempDir d;
  make_runs(d);
  auto rows = make_report(make_spec(d), options(d)).long_table.rows();
  // ResNet-5/LR-WL/Ori: seeds 41.28 and 42.32 -> mean 41.80, sample std 1.04/sqrt(2) = 0.735.
  EXPECT_EQ(rows[0][3], "41.80");
  EXPECT_EQ(rows[0][4], "64.40");
  EXPECT_EQ(rows[0][5], "-22.60");  // ours below the paper: negative delta
  EXPECT_EQ(rows[0][6], "1000");
  EXPECT_EQ(rows[0][7], "2");
  EXPECT_EQ(rows[0][8], "0.74");
  EXPECT_EQ(rows[0][9], kDataset);
  EXPECT_EQ(rows[0][11], "abc1234");
  EXPECT_EQ(rows[0][13], "0:41.28 1:42.32");  // per_seed: what tools/update_expected.sh derives its band from
  // FGSM: 20 and 22 -> 21.00 +- 1.41; paper 10.0 -> positive delta.
  EXPECT_EQ(rows[1][3], "21.00");
  EXPECT_EQ(rows[1][5], "11.00");
  EXPECT_EQ(rows[1][8], "1.41");
  EXPECT_EQ(rows[1][10], kFgsm);
  // One seed: no std; no paper value: paper and delta empty.
  EXPECT_EQ(rows[2][7], "1");
  EXPECT_EQ(rows[2][8], "");
  EXPECT_EQ(rows[2][13], "0:80.00");
  EXPECT_EQ(rows[2][5], "0.20");
  EXPECT_EQ(rows[3][4], "");
  EXPECT_EQ(rows[3][5], "");
}

TEST(Report, MarkdownHasWideTableAndProvenance) {
  TempDir d;
  make_runs(d);
  auto res = make_report(make_spec(d), options(d));
  const std::string& md = res.markdown;
  EXPECT_EQ(md, read_text(d / "out/t1.md"));
  EXPECT_NE(md.find("# Test table"), std::string::npos);
  EXPECT_NE(md.find("| Model | Algorithm | Ori | FGSM | Grey |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ResNet-5 | LR-WL | 41.80±0.74 (64.4, −22.6) | 21.00±1.41 (10.0, +11.0) | — |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| VGG-8 | BP | 80.00 (79.8, +0.2) | 10.00 | 50.00 |"), std::string::npos) << md;
  // Rows without any result are left out.
  EXPECT_EQ(md.find("| ResNet-5 | BP |"), std::string::npos);
  EXPECT_EQ(md.find("| VGG-8 | LR-WL |"), std::string::npos);
  EXPECT_NE(md.find(std::string("Dataset: ") + kDataset), std::string::npos);
  EXPECT_NE(md.find("abc1234"), std::string::npos);
  EXPECT_NE(md.find("  - FGSM: `" + kFgsm + "`"), std::string::npos) << md;
  EXPECT_NE(md.find("  - Grey: `mode=luma`"), std::string::npos) << md;
  EXPECT_NE(md.find("Attacks are white-box."), std::string::npos);
  // Training time from metrics.csv (10.5 + 20), eval time from the seconds column (2 rows x 1.5).
  EXPECT_NE(md.find("| resnet5_lrwl_s0 | 2 | 30.5 | 3.0 | 4.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| nested/vgg8_bp_s0 | — | — | 6.0 | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("Wall time of `make t1`: 1.0 min"), std::string::npos);

  // A resumed invocation (wall time under the cells' own 30.5 + 3 + 4.5 + 3 + 6 s) says so, with the cells' total.
  auto o = options(d);
  o.wall_seconds = 6;
  auto resumed = make_report(make_spec(d), o).markdown;
  EXPECT_NE(resumed.find("Wall time of this `make t1`: 0.1 min. It resumed cells"), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("the Total row: 0.8 min"), std::string::npos) << resumed;
}

// The protocol choices (spec.protocol): each algorithm's value from its runs' config.resolved.yaml, the default for
// a run whose config does not set the key, and no entry for a key without a default that no config sets.
TEST(Report, ProtocolChoicesFromTheRunsConfigs) {
  TempDir d;
  make_runs(d);
  write_text_atomic(d / "runs/resnet5_lrwl_s0/config.resolved.yaml", "model:\n  name: resnet5\n  readout: spikes\n");
  write_text_atomic(d / "runs/resnet5_lrwl_s1/config.resolved.yaml", "model:\n  name: resnet5\n  readout: spikes\n");
  write_text_atomic(d / "runs/nested/vgg8_bp_s0/config.resolved.yaml", "model:\n  name: vgg8\n");
  auto spec = make_spec(d);
  spec.protocol = {{"readout", "model.readout", "membrane"}, {"learned sigma", "trainer.learn_sigma", ""}};
  const auto md = make_report(spec, options(d)).markdown;
  EXPECT_NE(md.find("- Protocol choices the paper leaves open"), std::string::npos) << md;
  EXPECT_NE(md.find("  - readout (model.readout): membrane (BP) \\| spikes (LR-WL)\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("learned sigma"), std::string::npos) << md;
  // An algorithm whose models differ names them.
  write_text_atomic(d / "runs/resnet5_lrwl_s1/config.resolved.yaml", "model:\n  name: resnet5\n");
  write_text_atomic(d / "runs/resnet5_bp_s0/config.resolved.yaml", "model:\n  readout: spikes\n");
  write_eval(d / "runs/resnet5_bp_s0/eval/table1.csv", {{"ResNet-5", "BP", "Ori", "50.00", "0"}});
  const auto mixed = make_report(spec, options(d)).markdown;
  EXPECT_NE(mixed.find("  - readout (model.readout): membrane (BP on VGG-8; LR-WL) \\| spikes (BP on ResNet-5; LR-WL)\n"),
            std::string::npos) << mixed;
  spec.protocol.clear();
  EXPECT_EQ(make_report(spec, options(d)).markdown.find("Protocol choices"), std::string::npos);
}

TEST(Report, EachCellsShareOfThePapersSchedule) {
  TempDir d;
  make_runs(d);
  const std::string lr = "train:\n  epochs: 2\n  max_steps: 400\n  batch_size: 100\ntrainer:\n  copies_divisor: 10\n";
  write_text_atomic(d / "runs/resnet5_lrwl_s0/config.resolved.yaml", lr);
  write_text_atomic(d / "runs/resnet5_lrwl_s1/config.resolved.yaml", lr);
  write_text_atomic(d / "runs/nested/vgg8_bp_s0/config.resolved.yaml", "train:\n  epochs: 5\n  batch_size: 100\n");
  auto spec = make_spec(d);
  const auto without = make_report(spec, options(d)).markdown;
  EXPECT_EQ(without.find("The paper's training budget"), std::string::npos) << without;
  // 2 epochs x 400 steps x 100 of 100 epochs x 50,000 = 1.6 %; VGG-8 BP 5 of 100 whole epochs = 5.0 %.
  spec.schedule = Schedule{100, 50000, "the paper's train.py"};
  const auto md = make_report(spec, options(d)).markdown;
  EXPECT_NE(md.find("- The paper's training budget: against its schedule (100 epochs of 50000 training examples; the "
                    "paper's train.py), the cells trained on ResNet-5 LR-WL 1.6 % with 1/10 of the preset's copies; "
                    "VGG-8 BP 5.0 %; a cell short"),
            std::string::npos) << md;
  // A run trained on the whole schedule with all its copies is not short of it.
  for (const char* run : {"resnet5_lrwl_s0", "resnet5_lrwl_s1", "nested/vgg8_bp_s0"})
    write_text_atomic(d / "runs" / fs::path(run) / "config.resolved.yaml", "train:\n  epochs: 100\n  batch_size: 100\n");
  const auto full = make_report(spec, options(d)).markdown;
  EXPECT_EQ(full.find("The paper's training budget"), std::string::npos) << full;
  EXPECT_NE(full.find("- Every cell trained on the whole schedule (100 epochs of 50000 training examples; the paper's "
                      "train.py)."),
            std::string::npos) << full;
  // A row whose runs' configs do not say is not counted as trained on the whole schedule.
  fs::remove(d / "runs/nested/vgg8_bp_s0/config.resolved.yaml");
  const auto unknown = make_report(spec, options(d)).markdown;
  EXPECT_EQ(unknown.find("Every cell trained"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("ResNet-5 LR-WL 100 %; VGG-8 BP unknown (its runs' configs do not say); "), std::string::npos)
      << unknown;
}

TEST(Report, SweepCsvAndPlot) {
  TempDir d;
  make_runs(d);
  auto res = make_report(make_spec(d), options(d));
  auto sweep = CsvTable::load(d / "out/t1_eps.csv");
  EXPECT_EQ(sweep.header(), (std::vector<std::string>{"model", "algorithm", "metric", "eps", "accuracy", "seeds"}));
  ASSERT_EQ(sweep.rows().size(), 3u);
  EXPECT_EQ(sweep.rows()[0][3], "0.00392156862745098");
  EXPECT_EQ(sweep.rows()[2][4], "10.00");
  if (gnuplot_on_path()) {
    ASSERT_TRUE(fs::exists(d / "out/t1_eps.png")) << fmt::format("{}", fmt::join(res.notes, "\n"));
    EXPECT_GT(fs::file_size(d / "out/t1_eps.png"), 1000u);
    EXPECT_NE(res.markdown.find("![accuracy vs eps](t1_eps.png)"), std::string::npos);
  }
  EXPECT_TRUE(leftover_temps(d / "out").empty());
}

TEST(Report, ASecondSweptSettingGetsItsOwnCsvAndNoMaskingCheck) {
  TempDir d;
  make_runs(d);
  // Poisson noise is milder at a larger rate: its accuracy rises along the sweep, which check 2 must not flag.
  write_eval(d / "runs/resnet5_lrwl_s0/eval/table1.sweep.csv",
             {{"ResNet-5", "LR-WL", "FGSM", "30.00", "0", "eps=0.00392156862745098;steps=1"},
              {"ResNet-5", "LR-WL", "FGSM", "20.00", "0", "eps=0.0078431372549019;steps=1"},
              {"ResNet-5", "LR-WL", "FGSM", "10.00", "0", "eps=0.0156862745098039;steps=1"},
              {"ResNet-5", "LR-WL", "Poisson", "20.00", "0", "rate=10"},
              {"ResNet-5", "LR-WL", "Poisson", "40.00", "0", "rate=100"}});
  auto spec = make_spec(d);
  spec.columns.push_back("Poisson");
  spec.sweep_params = {{"Poisson", "rate"}};
  const auto res = make_report(spec, options(d));
  const auto rate = CsvTable::load(d / "out/t1_rate.csv");
  EXPECT_EQ(rate.header(), (std::vector<std::string>{"model", "algorithm", "metric", "rate", "accuracy", "seeds"}));
  ASSERT_EQ(rate.rows().size(), 2u);
  EXPECT_EQ(rate.rows()[0][3], "10");
  EXPECT_EQ(rate.rows()[1][4], "40.00");
  EXPECT_EQ(CsvTable::load(d / "out/t1_eps.csv").rows().size(), 3u);
  EXPECT_NE(res.markdown.find("## Accuracy vs eps\n"), std::string::npos) << res.markdown;
  EXPECT_NE(res.markdown.find("## Accuracy vs rate\n"), std::string::npos) << res.markdown;
  EXPECT_EQ(res.markdown.find("Poisson accuracy rises"), std::string::npos) << res.markdown;
  // Without sweep_params the rows lack the swept setting (eps) and are skipped, with a note.
  spec.sweep_params.clear();
  fs::remove_all(d / "out");
  const auto plain = make_report(spec, options(d));
  EXPECT_FALSE(fs::exists(d / "out/t1_rate.csv"));
  EXPECT_EQ(plain.markdown.find("Accuracy vs rate"), std::string::npos);
  bool noted = false;
  for (const auto& n : plain.notes) noted |= n.find("2 sweep row(s) without") != std::string::npos;
  EXPECT_TRUE(noted) << fmt::format("{}", fmt::join(plain.notes, "\n"));
}

// The text-attack summary: 1 - ASR only where every example was attacked (OpenAttack's count), else a dash.
TEST(Report, OneMinusAsrOnlyForAttacksRunOnEveryExample) {
  TempDir d;
  make_runs(d);
  auto spec = make_spec(d);
  spec.columns = {"Ori", "PWWS", "PWWS (OpenAttack)"};
  const fs::path run = d / "runs/resnet5_lrwl_s0/eval/table1.csv";
  CsvTable t({"model", "algorithm", "metric", "accuracy", "dataset", "seed", "n", "git_commit", "threat_params", "mode",
              "attack_success_rate", "words_changed_pct", "queries_per_example"});
  t.add({"ResNet-5", "LR-WL", "Ori", "41.28", kDataset, "0", "200", "abc1234", "", "white-box", "", "", ""});
  t.add({"ResNet-5", "LR-WL", "PWWS", "10.00", kDataset, "0", "200", "abc1234", "max_rate=0.25", "white-box", "75.61",
         "4.50", "98.2"});
  t.add({"ResNet-5", "LR-WL", "PWWS (OpenAttack)", "12.50", kDataset, "0", "200", "abc1234",
         "preset=openattack;max_rate=0.25;attacked=all", "white-box", "86.00", "5.00", "90.0"});
  t.save(run.string());
  const auto md = make_report(spec, options(d)).markdown;
  EXPECT_NE(md.find("| ResNet-5 | LR-WL | PWWS | 10.00 | 75.61 | — | 4.50 | 98.2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ResNet-5 | LR-WL | PWWS (OpenAttack) | 12.50 | 86.00 | 14.00 | 5.00 | 90.0 |"), std::string::npos)
      << md;
  // Without such a row the summary keeps its columns.
  spec.columns.pop_back();
  const auto plain = make_report(spec, options(d)).markdown;
  EXPECT_NE(plain.find("| ResNet-5 | LR-WL | PWWS | 10.00 | 75.61 | 4.50 | 98.2 |"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("1 − ASR (%) |"), std::string::npos) << plain;
}

TEST(Report, MissingGnuplotSkipsOnlyThePng) {
  TempDir d;
  make_runs(d);
  auto res = make_report(make_spec(d), options(d, "/nonexistent/gnuplot"));
  EXPECT_TRUE(fs::exists(d / "out/t1_eps.csv"));
  EXPECT_FALSE(fs::exists(d / "out/t1_eps.png"));
  bool noted = false;
  for (const auto& n : res.notes) noted |= n.find("not found") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(Report, NoOutputLeavesNoTempFiles) {
  TempDir d;
  make_runs(d);
  auto res = make_report(make_spec(d), options(d));
  for (const auto& w : res.written) EXPECT_TRUE(fs::exists(w)) << w;
  EXPECT_EQ(leftover_temps(d / "out"), std::vector<std::string>{});
}

TEST(Report, MissingRunsNameTheFolderAndTheFix) {
  TempDir d;
  auto spec = make_spec(d);
  auto opt = options(d);
  auto msg = error_of<DataError>([&] { make_report(spec, opt); });
  EXPECT_NE(msg.find(d / "runs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no eval/table1.csv found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lrbench eval RUN --suite table1"), std::string::npos) << msg;
  fs::create_directories(d / "runs/empty/eval");  // an existing folder without the suite's file
  EXPECT_THROW(make_report(spec, opt), DataError);
  EXPECT_FALSE(fs::exists(d / "out"));
}

TEST(Report, MalformedCsvNamesFileAndColumn) {
  TempDir d;
  const std::string file = d / "runs/c/eval/table1.csv";
  write_eval(file, {{"ResNet-5", "BP", "Ori", "50.00", "0"}}, {"accuracy"});
  auto msg = error_of<DataError>([&] { make_report(make_spec(d), options(d)); });
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
  EXPECT_NE(msg.find("'accuracy'"), std::string::npos) << msg;

  write_eval(file, {{"ResNet-5", "BP", "Ori", "50,0", "0"}});
  msg = error_of<DataError>([&] { make_report(make_spec(d), options(d)); });
  EXPECT_NE(msg.find(file + ":2"), std::string::npos) << msg;
}

TEST(Report, SameSeedTwiceIsAnError) {
  TempDir d;
  write_eval(d / "runs/a/eval/table1.csv", {{"ResNet-5", "BP", "Ori", "50.00", "0"}});
  write_eval(d / "runs/b/eval/table1.csv", {{"ResNet-5", "BP", "Ori", "51.00", "0"}});
  auto msg = error_of<DataError>([&] { make_report(make_spec(d), options(d)); });
  EXPECT_NE(msg.find("seed 0"), std::string::npos) << msg;
}

TEST(ReportSpec, LoadsTable1AndRejectsUnknownKeys) {
  const std::string dir = report_search_dirs().back();
  auto spec = ReportSpec::load(dir + "/table1.yaml");
  EXPECT_EQ(spec.name, "table1");
  EXPECT_EQ(spec.suite, "table1");
  EXPECT_EQ(spec.models, (std::vector<std::string>{"ResNet-5", "VGG-8"}));
  EXPECT_EQ(spec.algorithms, (std::vector<std::string>{"BP", "ES", "LR-L", "LR-WL"}));
  EXPECT_EQ(spec.columns.size(), 12u);  // the paper's 9, then APGD-CE, Square, AutoAttack (not in the paper)
  EXPECT_EQ(spec.columns.back(), "AutoAttack");
  EXPECT_EQ(spec.chance, 10);
  EXPECT_EQ(spec.sweep_param, "eps");
  EXPECT_TRUE(fs::exists(spec.paper_csv)) << spec.paper_csv;
  EXPECT_EQ(CsvTable::load(spec.paper_csv).rows().size(), 2u * 4u * 9u);
  ASSERT_EQ(spec.protocol.size(), 1u);
  EXPECT_EQ(spec.protocol[0].key, "trainer.learn_sigma");
  EXPECT_EQ(spec.protocol[0].fallback, "");  // BP's configs have no trainer.learn_sigma: not listed
  EXPECT_EQ(ReportSpec::load(dir + "/table4.yaml").protocol[0].fallback, "membrane");

  TempDir d;
  write_text_atomic(d / "bad.yaml", "title: x\nsuite: s\nmodels: [a]\nalgorithms: [b]\ncolumns: [c]\ncolums: [d]\n");
  auto msg = error_of<ConfigError>([&] { ReportSpec::load(d / "bad.yaml"); });
  EXPECT_NE(msg.find("unknown key 'colums'"), std::string::npos) << msg;
  write_text_atomic(d / "short.yaml", "title: x\nmodels: [a]\nalgorithms: [b]\ncolumns: [c]\n");
  EXPECT_THROW(ReportSpec::load(d / "short.yaml"), ConfigError);
}

TEST(RunReport, FindsTheYamlAndPrintsTableAndPaths) {
  TempDir d;
  make_runs(d);
  std::ostringstream out;
  EXPECT_EQ(run_report("table1", report_at(d / "runs", d / "out", 3438.0), out), 0);
  const std::string s = out.str();
  EXPECT_NE(s.find("| ResNet-5 | LR-WL | 41.80±0.74 (64.8, −23.0) |"), std::string::npos) << s;
  EXPECT_NE(s.find("Wall time of `make table1`: 57.3 min"), std::string::npos);
  EXPECT_NE(s.find("wrote " + (d / "out/table1.csv")), std::string::npos) << s;
  EXPECT_NE(s.find("wrote " + (d / "out/table1.md")), std::string::npos) << s;
  EXPECT_NE(s.find("wrote " + (d / "out/table1_eps.csv")), std::string::npos) << s;
}

TEST(RunReport, UnknownNameListsKnownReports) {
  auto msg = error_of<ConfigError>([] {
    std::ostringstream out;
    run_report("tabel1", ReportOptions{}, out);
  });
  EXPECT_NE(msg.find("unknown report 'tabel1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("table1"), std::string::npos) << msg;
  EXPECT_THROW(
      {
        std::ostringstream out;
        run_report("../reports/table1", ReportOptions{}, out);
      },
      ConfigError);
}

TEST(RunReport, SearchesLrbenchReportsFirst) {
  TempDir d;
  make_runs(d, "mine");
  write_text_atomic(d / "defs/custom.yaml",
                    "title: Custom\nsuite: mine\nmodels: [VGG-8]\nalgorithms: [BP]\ncolumns: [Ori, Grey]\n");
  ::setenv("LRBENCH_REPORTS", (d / "defs").c_str(), 1);
  std::ostringstream out;
  int rc = run_report("custom", report_at(d / "runs", d / "out"), out);
  ::unsetenv("LRBENCH_REPORTS");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.str().find("| VGG-8 | BP | 80.00 | 50.00 |"), std::string::npos) << out.str();
  EXPECT_FALSE(fs::exists(d / "out/custom_eps.csv"));  // no `sweep:` key: sweep files only noted
}

// Table 2 prints the lr-l trainer as the paper's "LR": algorithm_names renames rows as they are read (and a
// name that maps outside the report's algorithms is refused at load, naming the key).
TEST(ReportSpec, AlgorithmNamesMapOursToThePapers) {
  const std::string dir = report_search_dirs().back();
  auto spec2 = ReportSpec::load(dir + "/table2.yaml");
  EXPECT_EQ(spec2.algorithm_names.at("LR-L"), "LR");
  EXPECT_EQ(CsvTable::load(spec2.paper_csv).rows().size(), 3u * 3u * 5u);

  TempDir d;
  write_eval(d / "runs/lstm_lrl_s0/eval/table1.csv", {{"VGG-8", "LR-L", "Ori", "70.00", "0"}});
  auto spec = make_spec(d);
  spec.algorithms = {"BP", "LR"};
  spec.algorithm_names = {{"LR-L", "LR"}};
  auto res = make_report(spec, options(d));
  ASSERT_EQ(res.long_table.rows().size(), 1u);  // one cell has a result
  bool found = false;
  for (const auto& r : res.long_table.rows())
    if (r[0] == "VGG-8" && r[1] == "LR" && r[2] == "Ori") found = r[3] == "70.00";
  EXPECT_TRUE(found);

  write_text_atomic(d / "bad.yaml",
                    "title: x\nsuite: s\nmodels: [a]\nalgorithms: [BP, LR]\ncolumns: [c]\nalgorithm_names: {LR-L: LRX}\n");
  auto msg = error_of<ConfigError>([&] { ReportSpec::load(d / "bad.yaml"); });
  EXPECT_NE(msg.find("algorithm_names.LR-L"), std::string::npos) << msg;
}

// Table 3's RA and DICE cells average each run's sweep over the edge rates (one value per seed); the long
// CSV keeps each rate's value as its own row.
TEST(Report, SweepMeanColumnsAverageEachRunsSweep) {
  TempDir d;
  for (int seed : {0, 1}) {
    const std::string s = std::to_string(seed), dir = "runs/gcn_lr_s" + s + "/eval/";
    write_eval(d / (dir + "table3.csv"), {{"GCN", "LR", "Ori", seed ? "81.00" : "79.00", s}});
    write_eval(d / (dir + "table3.sweep.csv"),
               {{"GCN", "LR", "RA", seed ? "62.00" : "60.00", s, "rate=0.1"},
                {"GCN", "LR", "RA", seed ? "52.00" : "50.00", s, "rate=0.2"},
                {"GCN", "LR", "DICE", "70.00", s, "rate=0.1"},
                {"GCN", "LR", "DICE", "60.00", s, "rate=0.2"}});
  }
  write_text_atomic(d / "paper.csv", "model,algorithm,metric,accuracy\nGCN,LR,RA,68.9\n");
  ReportSpec spec;
  spec.name = "t3";
  spec.title = "Graphs";
  spec.paper_csv = d / "paper.csv";
  spec.suite = "table3";
  spec.models = {"GCN"};
  spec.algorithms = {"LR"};
  spec.columns = {"Ori", "RA", "DICE"};
  spec.sweep_param = "rate";
  spec.sweep_mean = {"RA", "DICE"};
  auto res = make_report(spec, options(d, ""));
  std::vector<std::vector<std::string>> got;
  for (const auto& r : res.long_table.rows()) got.push_back({r[2], r[3], r[4], r[7], r[10]});
  const std::vector<std::vector<std::string>> want = {
      {"Ori", "80.00", "", "2", ""},
      {"RA", "56.00", "68.90", "2", "mean over 2 rate: 0.1 0.2"},
      {"RA", "61.00", "", "2", "rate=0.1"},
      {"RA", "51.00", "", "2", "rate=0.2"},
      {"DICE", "65.00", "", "2", "mean over 2 rate: 0.1 0.2"},
      {"DICE", "70.00", "", "2", "rate=0.1"},
      {"DICE", "60.00", "", "2", "rate=0.2"}};
  EXPECT_EQ(got, want);
  EXPECT_NE(res.markdown.find("56.00±1.41 (68.9, −12.9)"), std::string::npos) << res.markdown;
  EXPECT_EQ(res.cells_missing, 0);
}

TEST(ReportSpec, SweepMeanMustNameAColumnAndNeedsASweep) {
  TempDir d;
  const std::string base = "title: t\nsuite: s\nmodels: [A]\nalgorithms: [BP]\ncolumns: [Ori, RA]\n";
  write_text_atomic(d / "a.yaml", base + "sweep: rate\nsweep_mean: [RB]\n");
  EXPECT_NE(error_of<ConfigError>([&] { ReportSpec::load(d / "a.yaml"); }).find("not one of the report's columns"),
            std::string::npos);
  write_text_atomic(d / "b.yaml", base + "sweep_mean: [RA]\n");
  EXPECT_NE(error_of<ConfigError>([&] { ReportSpec::load(d / "b.yaml"); }).find("needs the sweep key"), std::string::npos);
  write_text_atomic(d / "c.yaml", base + "sweep: rate\nsweep_mean: [RA]\n");
  EXPECT_EQ(ReportSpec::load(d / "c.yaml").sweep_mean, (std::vector<std::string>{"RA"}));
}

// Transfer results (lrbench eval --source, eval/<suite>.transfer.csv) are extra rows "ALG (transfer from BP)" in
// the Markdown and rows marked by their mode in the long CSV; they never count as missing and never take a paper
// value.
TEST(Report, TransferRowsAreExtraRowsMarkedByMode) {
  TempDir d;
  make_runs(d);
  for (int seed : {0, 1})
    write_eval(d / ("runs/resnet5_lrwl_s" + std::to_string(seed) + "/eval/table1.transfer.csv"),
               {{"ResNet-5", "LR-WL", "FGSM", seed ? "37.00" : "35.00", std::to_string(seed), kFgsm, "2.0",
                 "transfer from BP"}});
  auto res = make_report(make_spec(d), options(d));
  EXPECT_EQ(res.cells_missing, 2 * 2 * 3 - 5);
  const auto& rows = res.long_table.rows();
  ASSERT_EQ(rows.size(), 6u);  // under their model, after its white-box rows
  EXPECT_EQ(rows[1][12], "white-box");
  EXPECT_EQ(rows[2], (std::vector<std::string>{"ResNet-5", "LR-WL", "FGSM", "36.00", "", "", "1000", "2", "1.41",
                                                    kDataset, kFgsm, "abc1234", "transfer from BP", "0:35.00 1:37.00"}));
  EXPECT_NE(res.markdown.find("| ResNet-5 | LR-WL (transfer from BP) | — | 36.00±1.41 | — |"), std::string::npos)
      << res.markdown;
  // White-box FGSM 21.00 (seeds 20, 22) vs transfer 36.00: the white-box attack is the stronger one.
  EXPECT_NE(res.markdown.find("- ResNet-5 LR-WL: 21.0 % under white-box attacks, 36.0 % transfer from BP (mean over 1 "
                              "column(s)): the white-box attack is stronger"),
            std::string::npos)
      << res.markdown;
}

// Eval files written before the mode column are white-box.
TEST(Report, FilesWithoutModeAreWhiteBox) {
  TempDir d;
  write_eval(d / "runs/a/eval/table1.csv", {{"VGG-8", "BP", "Ori", "80.00", "0"}}, {"mode"});
  auto rows = make_report(make_spec(d), options(d)).long_table.rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][12], "white-box");
}
