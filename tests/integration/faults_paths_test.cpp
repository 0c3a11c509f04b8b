// Faults, kind 1: nothing lrbench writes or deletes lies outside the run's own folder. Every value that becomes
// a path component (a suite's name, an experiment's name, a config group and its option, in overrides and in
// `defaults:` entries) is a plain name, else exit 2 with one line; the eval deletes only the part files it made.
#include <fstream>

#include "tests/support/cli.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using test::lrbench;

std::string demo() { return test::source_dir() + "/experiments/demo.yaml"; }

// One small finished run shared by the tests of this file.
class Paths : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    auto r = lrbench("train " + demo() + " dataset.limit_train=200 dataset.limit_test=50 train.epochs=1 --out " +
                     (*dir_ / "run"));
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string run() { return *dir_ / "run"; }
  static test::TempDir* dir_;
};
test::TempDir* Paths::dir_ = nullptr;

void expect_refused(const test::CliResult& r, const std::string& what) {
  EXPECT_EQ(r.code, 2) << r.out;
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  EXPECT_NE(r.error_lines[0].find(what), std::string::npos) << r.error_lines[0];
  EXPECT_NE(r.error_lines[0].find("plain name"), std::string::npos) << r.error_lines[0];
}

TEST_F(Paths, SuiteNamesThatAreNotPlainNamesAreRefusedAndWriteNothing) {
  test::TempDir d;
  std::filesystem::create_directories(d / "a/b");
  const std::string abs = d / "abs-notes";
  for (const std::string& name : std::vector<std::string>{"../../escape/notes", abs, "sub/notes", "..", "\"two\\nlines\""}) {
    std::ofstream(d / "a/b/suite.yaml") << "name: " << name << "\nthreats:\n  - {name: gaussian, std: 0.1}\n";
    expect_refused(lrbench("eval " + run() + " --suite " + (d / "a/b/suite.yaml")), "suite's name");
  }
  EXPECT_FALSE(std::filesystem::exists(d / "escape"));
  EXPECT_FALSE(std::filesystem::exists(abs + ".csv"));
  EXPECT_FALSE(std::filesystem::exists(run() + "/eval/sub"));
}

TEST_F(Paths, ExperimentNamesThatAreNotPlainNamesAreRefused) {
  for (const std::string name : {"../escape", "/tmp/abs", "a/b", ".."}) {
    expect_refused(lrbench("check " + demo() + " name=" + name), "experiment's name");
  }
  test::TempDir d;  // the default run directory would be runs/<name>/...: refused before anything is made
  auto r = lrbench("train " + demo() + " name=../../escape dataset.limit_train=100 train.epochs=1",
                   "cd " + d.path() + " &&");
  expect_refused(r, "experiment's name");
  EXPECT_TRUE(std::filesystem::is_empty(d.path()));
}

TEST_F(Paths, ConfigGroupChoicesAreNamesNotPaths) {
  test::TempDir d;
  std::ofstream(d / "x.yaml") << "name: mlp\nhidden: [8]\n";
  for (const std::string& choice : std::vector<std::string>{"model=../../x", "model=" + (d / "x"), "dataset=../model/mlp", "trainer=./bp"})
    expect_refused(lrbench("check " + demo() + " " + choice), "config group");
  std::ofstream(d / "exp.yaml") << "defaults: [dataset: fashion-mnist, model: ../model/mlp, trainer: bp]\nname: e\n";
  expect_refused(lrbench("check " + (d / "exp.yaml")), "config group");
  std::ofstream(d / "exp2.yaml") << "defaults: [dataset: fashion-mnist, model: " << (d / "x") << ", trainer: bp]\n";
  expect_refused(lrbench("check " + (d / "exp2.yaml")), "config group");
}

// The eval's part files live beside --out; it removes only those it wrote, and the folder only if empty.
TEST_F(Paths, EvalDeletesOnlyItsOwnPartFiles) {
  test::TempDir d;
  std::filesystem::create_directories(d / "mine.csv.parts");
  std::ofstream(d / "mine.csv.parts/keep.txt") << "the user's\n";
  auto r = lrbench("eval " + run() + " --threat gaussian --out " + (d / "mine.csv"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(d / "mine.csv"));
  EXPECT_TRUE(std::filesystem::exists(d / "mine.csv.parts/keep.txt"));
  int left = 0;
  for (const auto& e : std::filesystem::directory_iterator(d / "mine.csv.parts")) left += e.path().extension() == ".csv";
  EXPECT_EQ(left, 0) << "the eval's own part files are removed";
  auto again = lrbench("eval " + run() + " --threat gaussian --out " + (d / "other.csv"));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_FALSE(std::filesystem::exists(d / "other.csv.parts")) << "an empty parts folder of ours is removed";
}

}  // namespace
