// One run over several processes (lrbench train --nproc N, a Gloo process group over a FileStore): the result
// does not depend on the number of processes. LR and ES ranks draw addressable noise for their share of the
// copies / population and all-reduce; BP ranks split the batch (DDP). Tolerance: after 6 SGD steps (not Adam,
// whose update would hide a gradient off by a constant factor) of an MLP, every parameter within 1e-5 of the
// largest parameter's magnitude (the ranks' sums differ from one process's only in floating-point order).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/cli.h"
#include "tests/support/support.h"

namespace {

namespace fs = std::filesystem;

// Every tensor of an archive and its sub-archives (a module's submodules), by dotted name.
void collect(torch::serialize::InputArchive& a, const std::string& prefix, std::map<std::string, torch::Tensor>& out) {
  for (const auto& k : a.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive sub;
    if (a.try_read(k, t))
      out[prefix + k] = t;
    else if (a.try_read(k, sub))
      collect(sub, prefix + k + ".", out);
  }
}

std::map<std::string, torch::Tensor> model_tensors(const std::string& path) {
  torch::serialize::InputArchive root, model;
  root.load_from(path);
  root.read("model", model);
  std::map<std::string, torch::Tensor> out;
  collect(model, "", out);
  return out;
}

double max_rel_diff(const std::string& a, const std::string& b) {
  auto x = model_tensors(a), y = model_tensors(b);
  EXPECT_EQ(x.size(), y.size());
  EXPECT_GE(x.size(), 4u);  // the MLP's two weights and biases
  double scale = 0, diff = 0;
  for (const auto& [k, t] : x) {
    EXPECT_TRUE(y.count(k)) << k;
    if (!y.count(k)) continue;
    scale = std::max(scale, t.abs().max().item<double>());
    diff = std::max(diff, (t - y[k]).abs().max().item<double>());
  }
  return diff / scale;
}

std::string train(const std::string& trainer, int nproc, const std::string& dir) {
  fs::remove_all(dir);
  auto r = lrb::test::lrbench(fmt::format("train {}/experiments/demo.yaml trainer={} dataset.limit_train=600 "
                                          "dataset.limit_test=100 train.epochs=1 model.hidden=[32] "
                                          "train.optimizer.name=sgd train.optimizer.lr=0.05 --out {} --nproc {}",
                                          lrb::test::source_dir(), trainer, dir, nproc));
  EXPECT_EQ(r.code, 0) << r.out;
  return dir + "/checkpoint.pt";
}

class Ranks : public ::testing::TestWithParam<const char*> {};

TEST_P(Ranks, OneTwoAndThreeProcessesTrainTheSameModel) {
  const std::string trainer = GetParam();
  lrb::test::TempDir tmp;
  const std::string base = tmp.path();
  const auto one = train(trainer, 1, base + "/n1");
  for (int n : {2, 3}) {
    const auto many = train(trainer, n, base + "/n" + std::to_string(n));
    const double d = max_rel_diff(one, many);
    EXPECT_LT(d, 1e-5) << trainer << " with " << n << " processes";
    std::cout << trainer << ": 1 vs " << n << " processes, max relative difference " << d << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Dist, Ranks, ::testing::Values("lr-wl", "lr-l", "es", "bp"));

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Only rank 0 writes: the run directory holds one log and one run.json, which records the ranks.
TEST(Dist, OnlyRankZeroWrites) {
  lrb::test::TempDir tmp;
  const std::string dir = tmp / "run";
  train("lr-wl", 2, dir);
  EXPECT_NE(slurp(dir + "/log.txt").find("ranks 2"), std::string::npos);
  EXPECT_NE(slurp(dir + "/run.json").find("\"ranks\": 2"), std::string::npos);
}

// Runs a bash script (the run in the background, a fault injected, the launcher waited for); its output.
std::string run_script(const lrb::test::TempDir& tmp, const std::string& script) {
  std::ofstream(tmp / "fault.sh") << script;
  std::string out;
  lrb::test::run_command("bash " + (tmp / "fault.sh"), &out);
  return out;
}

// The interrupted run, resumed on one process, ends where an uninterrupted one-process run ends.
void expect_resume_matches_whole_run(const lrb::test::TempDir& tmp, const std::string& args, const std::string& run) {
  auto r = lrb::test::lrbench(args + " --out " + run + " --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  auto whole = lrb::test::lrbench(args + " --out " + (tmp / "whole"));
  ASSERT_EQ(whole.code, 0) << whole.out;
  EXPECT_LT(max_rel_diff(tmp / "whole/checkpoint.pt", run + "/checkpoint.pt"), 1e-5);
}

// kill -9 of rank 1 mid-run: the launcher stops rank 0 and exits non-zero within seconds, naming the rank; the
// run then resumes on ONE process from its last state and ends where an uninterrupted one-process run ends.
TEST(Dist, ADeadRankStopsTheRunWhichResumesOnAnotherWorldSize) {
  lrb::test::TempDir tmp;
  const std::string args = fmt::format("train {}/experiments/demo.yaml trainer=lr-wl dataset.limit_train=20000 "
                                       "dataset.limit_test=100 train.epochs=1 model.hidden=[32] "
                                       "train.checkpoint_every_steps=2",
                                       lrb::test::source_dir());
  const std::string run = tmp / "run";
  const std::string script = fmt::format(
      "set -u; {bin} {args} --out {run} --nproc 2 > {log} 2>&1 & L=$!; "
      "for i in $(seq 600); do [ -f {run}/resume.pt ] && break; sleep 0.05; done; "
      "for p in $(pgrep -P $L); do tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=1 && kill -9 $p; done; "
      "t0=$(date +%s); wait $L; rc=$?; echo \"launcher rc $rc after $(( $(date +%s) - t0 )) s\"; cat {log}\n",
      fmt::arg("bin", LRBENCH_BIN), fmt::arg("args", args), fmt::arg("run", run), fmt::arg("log", tmp / "log"));
  const std::string out = run_script(tmp, script);
  EXPECT_NE(out.find("rank 1 of 2 exited with status 137"), std::string::npos) << out;
  EXPECT_EQ(out.find("launcher rc 0 "), std::string::npos) << out;
  const auto at = out.find("launcher rc ");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_LE(std::stoi(out.substr(out.find("after ", at) + 6)), 15) << out;  // stopped at once, not at a timeout
  ASSERT_TRUE(fs::exists(run + "/resume.pt")) << out;
  expect_resume_matches_whole_run(tmp, args, run);
}

// SIGTERM to the --nproc launcher (as Slurm preempts a job): every rank stops at the same step, rank 0 saves the
// resume state, the launcher exits 143; resumed on one process, the run ends where an uninterrupted run ends.
TEST(Dist, SigtermStopsEveryRankAtOneStepWithTheStateSaved) {
  lrb::test::TempDir tmp;
  const std::string args = fmt::format("train {}/experiments/demo.yaml trainer=lr-wl dataset.limit_train=20000 "
                                       "dataset.limit_test=100 train.epochs=1 model.hidden=[32]",
                                       lrb::test::source_dir());
  const std::string run = tmp / "run";
  const std::string script = fmt::format(
      "set -u; {bin} {args} --out {run} --nproc 2 > {log} 2>&1 & L=$!; "
      "for i in $(seq 600); do grep -q 'ranks 2' {run}/log.txt 2>/dev/null && break; sleep 0.05; done; sleep 0.5; "
      "kill -TERM $L; wait $L; echo \"launcher rc $?\"; cat {log}\n",
      fmt::arg("bin", LRBENCH_BIN), fmt::arg("args", args), fmt::arg("run", run), fmt::arg("log", tmp / "log"));
  const std::string out = run_script(tmp, script);
  EXPECT_NE(out.find("launcher rc 143"), std::string::npos) << out;
  EXPECT_NE(out.find("SIGTERM at epoch 1 step"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(run + "/resume.pt")) << out;
  expect_resume_matches_whole_run(tmp, args, run);
}

}  // namespace
