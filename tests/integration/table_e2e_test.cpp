// `make table1` in miniature: tools/table.sh with a tiny profile (ResNet-5 x {BP, LR-WL}, 500 training
// images, 3 threats on 100 test images) through train -> eval -> report, then the report's shape and
// invariants, and that a second invocation resumes (skips) every finished cell.
#include <filesystem>
#include <fstream>

#include "core/csv.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

std::string read(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(TableE2e, TinyTable1TrainsEvaluatesAndReports) {
  test::TempDir d;
  std::ofstream(d / "tiny.txt") << "models: resnet5\ntrainers: bp lr-wl\nmatch: bp\n"
                                << "* * dataset.limit_train=500 dataset.limit_test=200 train.epochs=1\n"
                                << "* bp +train.snapshot_every=1 +train.snapshot_examples=100\n"
                                << "* lr-wl trainer.copies_divisor=25 train.max_steps=3\n"
                                << "eval eval.n_examples=100\n";
  std::ofstream(d / "table1.yaml") << "name: table1\neval: {batch_size: 50}\nthreats:\n"
                                   << "  - {name: gaussian, std: 0.08}\n  - {name: fgsm}\n  - {name: mask}\n";
  const std::string env = "cd " + test::source_dir() + " && PROFILE=" + (d / "tiny.txt") + " SUITE=" +
                          (d / "table1.yaml") + " RUNS=" + (d / "runs") + " OUT=" + (d / "results") + " ";
  std::string out;
  ASSERT_EQ(test::run_command(env + "bash tools/table.sh table1 " + LRBENCH_BIN, &out), 0) << out;

  auto t = CsvTable::load(d / "results/table1.csv");
  const auto& h = t.header();
  auto col = [&](const char* c) { return std::find(h.begin(), h.end(), c) - h.begin(); };
  for (auto c : {"model", "algorithm", "metric", "accuracy", "paper", "delta", "n", "seeds"})
    ASSERT_LT(col(c), static_cast<long>(h.size())) << c;
  // 2 algorithms x (Ori + 3 threats), white-box; and BP's snapshot at LR-WL's clean accuracy (match: bp), when one
  // of its 5 snapshots came within 2 pp (the run's eval/table1.matched-lr-wl.json says which way).
  const auto choice = read(d / "runs/resnet5-bp-s0/eval/table1.matched-lr-wl.json");
  ASSERT_FALSE(choice.empty()) << out;
  const bool matched = choice.find("\"matched\": true") != std::string::npos;
  EXPECT_NE(out.find(matched ? "matched bp (step-" : "no bp snapshot within 2 pp"), std::string::npos) << out;
  ASSERT_EQ(t.rows().size(), matched ? 12u : 8u) << out;
  std::map<std::string, std::map<std::string, double>> acc;
  for (const auto& r : t.rows()) {
    if (r[col("mode")] != "white-box") continue;
    EXPECT_EQ(r[col("model")], "ResNet-5");
    EXPECT_EQ(r[col("n")], "100");
    acc[r[col("algorithm")]][r[col("metric")]] = std::stod(r[col("accuracy")]);
    if (r[col("metric")] == "Ori" && r[col("algorithm")] == "BP") {
      EXPECT_EQ(r[col("paper")], "64.40");
    }
  }
  for (const auto& algo : {"BP", "LR-WL"}) {
    ASSERT_EQ(acc[algo].size(), 4u) << algo;
    EXPECT_LE(acc[algo]["FGSM"], acc[algo]["Ori"]) << algo;  // FGSM never helps on the same images
  }
  auto md = read(d / "results/table1.md");
  EXPECT_NE(md.find("| ResNet-5 | BP |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ResNet-5 | LR-WL |"), std::string::npos) << md;
  EXPECT_NE(md.find("Wall time"), std::string::npos) << md;
  // make table1 also writes the HTML page, with both rows and each run's provenance card.
  auto html = read(d / "results/table1.html");
  EXPECT_NE(html.find("<th>ResNet-5</th><th>LR-WL</th>"), std::string::npos);
  EXPECT_NE(html.find("<code>resnet5-bp-s0</code>"), std::string::npos);
  EXPECT_NE(html.find("<details><summary>config.resolved.yaml</summary>"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(d / "runs/wall_seconds"));

  // Resume: nothing is retrained or re-evaluated, and the report is the same.
  std::string again;
  ASSERT_EQ(test::run_command(env + "bash tools/table.sh table1 " + LRBENCH_BIN, &again), 0) << again;
  EXPECT_NE(again.find("resnet5-bp-s0: trained"), std::string::npos) << again;
  EXPECT_EQ(again.find("training ("), std::string::npos) << again;
  EXPECT_EQ(CsvTable::load(d / "results/table1.csv").str(), t.str());

  // An interrupted cell (run.json still "running", as after kill -9) is continued with train --resume rather
  // than wiped; with no resume.pt left it starts over and writes the same checkpoint bytes.
  const std::string cell = d / "runs/resnet5-lr-wl-s0";
  const auto ckpt = read(cell + "/checkpoint.pt");
  auto json = read(cell + "/run.json");
  const auto at = json.find("\"status\": \"finished\"");
  ASSERT_NE(at, std::string::npos) << json;
  std::ofstream(cell + "/run.json") << json.replace(at, 20, "\"status\": \"running\"");
  std::string resumed;
  ASSERT_EQ(test::run_command(env + "bash tools/table.sh table1 " + LRBENCH_BIN, &resumed), 0) << resumed;
  EXPECT_NE(resumed.find("resnet5-lr-wl-s0: resuming the interrupted run"), std::string::npos) << resumed;
  EXPECT_EQ(read(cell + "/checkpoint.pt"), ckpt);
  EXPECT_EQ(CsvTable::load(d / "results/table1.csv").str(), t.str());
}
