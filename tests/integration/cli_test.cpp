// The lrbench binary on bad input: one error line, the promised exit code, nothing half-written.
#include <fstream>

#include "core/csv.h"

#include "tests/support/cli.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using Result = test::CliResult;
using test::lrbench;

std::string demo() { return test::source_dir() + "/experiments/demo.yaml"; }

bool has_files(const std::string& dir) {
  return std::filesystem::exists(dir) && !std::filesystem::is_empty(dir);
}

}  // namespace

TEST(Cli, HelpListsEveryVerb) {
  auto r = lrbench("--help");
  EXPECT_EQ(r.code, 0);
  for (auto verb : {"train", "eval", "list", "data", "check", "gradcheck"}) EXPECT_NE(r.out.find(verb), std::string::npos);
}

TEST(Cli, ListShowsRegisteredPlugins) {
  auto r = lrbench("list models");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("resnet5"), std::string::npos);
  EXPECT_NE(r.out.find("mlp"), std::string::npos);
  auto bad = lrbench("list modles");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("did you mean 'models'?"), std::string::npos) << bad.out;
}

TEST(Cli, MalformedYamlExits2WithOneLineNamingTheFile) {
  test::TempDir d;
  std::ofstream(d / "bad.yaml") << "name: x\ntrain: {epochs: 2\n";
  auto r = lrbench("train " + (d / "bad.yaml") + " --out " + (d / "run"));
  EXPECT_EQ(r.code, 2);
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  EXPECT_NE(r.error_lines[0].find(d / "bad.yaml:"), std::string::npos) << r.out;
  EXPECT_FALSE(has_files(d / "run"));
}

TEST(Cli, UnknownPluginAndUnknownKeyExit2BeforeAnyWork) {
  test::TempDir d;
  auto r = lrbench("train " + demo() + " trainer.name=bpp --out " + (d / "run"));
  EXPECT_EQ(r.code, 2);
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  EXPECT_NE(r.error_lines[0].find("unknown trainer 'bpp'"), std::string::npos) << r.out;
  EXPECT_NE(r.error_lines[0].find("did you mean 'bp'?"), std::string::npos) << r.out;
  auto k = lrbench("train " + demo() + " train.epohcs=1 --out " + (d / "run"));
  EXPECT_EQ(k.code, 2);
  ASSERT_EQ(k.error_lines.size(), 1u) << k.out;
  EXPECT_NE(k.error_lines[0].find("unknown key 'epohcs' in 'train'"), std::string::npos) << k.out;
  auto range = lrbench("check " + demo() + " train.batch_size=0");
  EXPECT_EQ(range.code, 2);
  EXPECT_NE(range.out.find("train.batch_size: out of range (got 0, expected >= 1)"), std::string::npos) << range.out;
  EXPECT_FALSE(has_files(d / "run"));
}

TEST(Cli, MissingDataFileExits1NamingTheFileAndTheFix) {
  test::TempDir d;
  auto r = lrbench("train " + demo() + " dataset=mnist --out " + (d / "run"), "LRBENCH_DATA=" + (d / "empty"));
  EXPECT_EQ(r.code, 1);
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  EXPECT_NE(r.error_lines[0].find("train-images-idx3-ubyte"), std::string::npos) << r.out;
  EXPECT_NE(r.error_lines[0].find("fetch_data.sh"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d / "run/checkpoint.pt"));
}

TEST(Cli, EvalOfMissingCheckpointExits1) {
  test::TempDir d;
  auto r = lrbench("eval " + d.path());
  EXPECT_EQ(r.code, 1);
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  EXPECT_NE(r.error_lines[0].find("config.resolved.yaml: not found"), std::string::npos) << r.out;
}

TEST(Cli, TrainThenEvalPrintsAnAccuracyTable) {
  test::TempDir d;
  auto r = lrbench("train " + demo() + " train.epochs=1 dataset.limit_train=2000 dataset.limit_test=500 --out " +
                   (d / "run"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::filesystem::remove(d / "run/checkpoint.pt");
  auto missing = lrbench("eval " + (d / "run"));
  EXPECT_EQ(missing.code, 1);
  ASSERT_EQ(missing.error_lines.size(), 1u) << missing.out;
  EXPECT_NE(missing.error_lines[0].find("checkpoint.pt: checkpoint not found"), std::string::npos) << missing.out;
  std::ofstream(d / "run/checkpoint.pt") << "truncated";
  auto corrupt = lrbench("eval " + (d / "run"));
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_EQ(corrupt.error_lines.size(), 1u) << corrupt.out;
  EXPECT_FALSE(std::filesystem::exists(d / "run/eval/clean.csv"));
}

TEST(Cli, EvalWritesCsvWhereAsked) {
  test::TempDir d;
  ASSERT_EQ(lrbench("train " + demo() + " train.epochs=1 dataset.limit_train=2000 dataset.limit_test=500 --out " +
                    (d / "run")).code, 0);
  auto r = lrbench("eval " + (d / "run") + " --out " + (d / "res.csv"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("MLP"), std::string::npos);
  std::ifstream in(d / "res.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("model,algorithm,metric,accuracy,dataset,seed,n,", 0), 0u) << header;
}

TEST(Cli, DataVerifyReportsEachFileAndFailsOnAnAlteredOne) {
  LRB_REQUIRE_DATA("mnist/t10k-labels-idx1-ubyte.gz");
  auto ok = lrbench("data verify --data-root " + test::data_root());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("mnist          ok"), std::string::npos) << ok.out;
  test::TempDir d;
  std::filesystem::create_directories(d / "mnist");
  for (auto f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"})
    std::filesystem::copy_file(test::data_root() + "/mnist/" + f, d / ("mnist/" + std::string(f)));
  std::ofstream(d / "mnist/t10k-labels-idx1-ubyte.gz") << "not a gzip file";
  auto bad = lrbench("data verify --data-root " + d.path());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("FAILED"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("t10k-labels-idx1-ubyte"), std::string::npos) << bad.out;
}

// Threat evaluation on bad input: one line, exit 2 for usage/config mistakes, nothing written.
TEST(Cli, EvalThreatBadInputExits2BeforeAnyWork) {
  test::TempDir d;
  ASSERT_EQ(lrbench("train " + demo() + " train.epochs=1 dataset.limit_train=500 dataset.limit_test=200 --out " +
                    (d / "run")).code, 0);
  struct Case {
    std::string args, needle;
  };
  for (const auto& c : std::vector<Case>{
           {"--threat fgsn", "unknown threat 'fgsn'"},
           {"--threat fgsm threat.eps=2", "eps: out of range (got 2"},
           {"--threat fgsm threat.epz=0.1", "unknown key 'epz'"},
           {"--suite no-such-suite", "no suite 'no-such-suite'"},
           {"--threat fgsm --suite table1", "not both"},
           {"--threat fgsm train.epochs=3", "must start with threat. or eval."},
           {"--threat grey", "needs RGB images"},  // Fashion-MNIST is 1-channel: refused before any work
           {"--threat mask threat.fraction=0.99", "fit strictly inside"},
           // Text threats on an image model, and --examples without a text attack.
           {"--threat pwws", "threat 'pwws' does not apply to image data (dataset 'fashion-mnist'; it takes text data)"},
           {"--threat word-mask", "threat 'word-mask' does not apply to image data"},
           {"--threat fgsm --examples " + (d / "x.jsonl"), "no text attack to record"}}) {
    auto r = lrbench("eval " + (d / "run") + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    ASSERT_EQ(r.error_lines.size(), 1u) << c.args << "\n" << r.out;
    EXPECT_NE(r.error_lines[0].find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(d / "run/eval")) << "a failed eval left files behind";
  auto ok = lrbench("eval " + (d / "run") + " --threat fgsm threat.eps=0.1 eval.n_examples=100");
  ASSERT_EQ(ok.code, 0) << ok.out;
  auto t = CsvTable::load(d / "run/eval/fgsm.csv");
  ASSERT_EQ(t.rows().size(), 2u);  // Ori + FGSM
  EXPECT_EQ(t.rows()[1][2], "FGSM");
  EXPECT_EQ(t.rows()[1][6], "100");
  EXPECT_LE(std::stod(t.rows()[1][3]), std::stod(t.rows()[0][3]));
}

// A text attack end to end: a small LSTM on AG News, then `eval --threat pwws --examples --show`.
TEST(Cli, TextAttackWritesAndShowsItsExamples) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  test::TempDir d;
  std::ofstream(d / "text.yaml") << "defaults: [dataset: ag-news, model: lstm, trainer: bp]\nname: text\nseed: 0\n"
                                    "dataset: {split_from_test: 1000, limit_test: 200}\nmodel: {embedding_dim: 16, "
                                    "hidden: 16}\ntrain: {epochs: 1, batch_size: 32}\n";
  auto train = lrbench("train " + (d / "text.yaml") + " threads=1 --out " + (d / "run"));
  ASSERT_EQ(train.code, 0) << train.out;
  auto r = lrbench("eval " + (d / "run") + " --threat pwws eval.n_examples=12 --examples " + (d / "ex.jsonl") +
                   " --show 2");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(d / "ex.jsonl");
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    for (const char* key : {"\"index\":", "\"label\":", "\"original\":", "\"adversarial\":", "\"changed\":",
                            "\"queries\":", "\"success\":", "\"p_original\":", "\"p_adversarial\":"})
      EXPECT_NE(line.find(key), std::string::npos) << key << " missing in " << line;
  auto t = CsvTable::load(d / "run/eval/pwws.csv");
  ASSERT_EQ(t.rows().size(), 2u);
  EXPECT_EQ(t.rows()[1][2], "PWWS");
  EXPECT_EQ(lines, std::stoi(t.rows()[0][7])) << "one line per example the model got right";
  if (lines > 0) {
    EXPECT_NE(r.out.find("pwws #"), std::string::npos) << r.out;
  }
}

TEST(Cli, ExperimentOutsideTheTreeComposesTheBuiltInGroups) {
  test::TempDir d;
  std::filesystem::copy_file(demo(), d / "my.yaml");
  // Without LRB_SOURCE_DIR (which tests set), only the compiled-in search path can find the groups.
  auto r = lrbench("check " + (d / "my.yaml"), "env -u LRB_SOURCE_DIR");
  EXPECT_EQ(r.code, 0) << r.out;
  auto bad = lrbench("check " + (d / "my.yaml") + " model=resnet50", "env -u LRB_SOURCE_DIR");
  EXPECT_EQ(bad.code, 2);
  ASSERT_EQ(bad.error_lines.size(), 1u) << bad.out;
  EXPECT_NE(bad.error_lines[0].find("searched"), std::string::npos) << bad.out;
  EXPECT_NE(bad.error_lines[0].find("LRBENCH_CONFIG_PATH"), std::string::npos) << bad.out;
}

// `lrbench cells` lists a table's cells with their stable index (the --cell I of tools/table.sh and job arrays).
TEST(Cli, CellsListsATablesCellsWithTheirIndex) {
  auto r = lrbench("cells table1 --profile paper --seeds 2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0 resnet5-bp-s0 experiments/table1.yaml model=resnet5 trainer=bp seed=0"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("15 vgg8-lr-wl-s1 "), std::string::npos) << r.out;  // 2 models x 4 trainers x 2 seeds
  EXPECT_EQ(r.out.find("16 "), std::string::npos) << r.out;
  auto bad = lrbench("cells table1 --profile nonesuch");
  EXPECT_EQ(bad.code, 2) << bad.out;
}

// Piped (not a terminal, as under nohup or make tableN), a run logs its progress between epochs: step, rate, and
// the ETA of the epoch and of the run (LRBENCH_PROGRESS_SECONDS shortens the default 30 s for the test).
TEST(Cli, APipedRunLogsProgressWithAnEta) {
  test::TempDir d;
  auto r = lrbench("train " + demo() + " trainer=lr-wl dataset.limit_train=3000 dataset.limit_test=50 train.epochs=2 "
                   "--out " + (d / "run") + " 2>&1 | cat",
                   "LRBENCH_PROGRESS_SECONDS=0.05");
  const std::string& out = r.out;
  EXPECT_NE(out.find("done in"), std::string::npos) << out;
  const auto at = out.find("epoch 1/2 step ");
  ASSERT_NE(at, std::string::npos) << out;
  const auto line = out.substr(at, out.find('\n', at) - at);
  EXPECT_NE(line.find("steps/s, ETA epoch "), std::string::npos) << line;
  EXPECT_NE(line.find(", run "), std::string::npos) << line;
  EXPECT_NE(out.find("epoch 2/2 step "), std::string::npos) << out;
}
