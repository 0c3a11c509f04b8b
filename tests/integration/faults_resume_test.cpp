// Faults, kind 4: damaged resume state. resume.pt carries its own sha256 (a trailer after the archive), so a
// change anywhere in it (near its end, mid-file, in the trailer) or a cut is refused in one line naming the file
// and the fix, never resumed into a different model or called divergence; a FIFO or folder in its place is
// refused at once, never waited on. (A folder holding only lrbench's scaffolding counts as empty and its stale
// temp files go: faults_writers_test.)
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/support/cli.h"
#include "tests/support/support.h"

using namespace lrb;
namespace fs = std::filesystem;

namespace {

using test::lrbench;

const std::string kArgs = " trainer=bp dataset.limit_train=3000 dataset.limit_test=100 train.epochs=2 "
                          "train.checkpoint_every_steps=2 ";
std::string train_cmd(const std::string& run) {
  return "train " + test::source_dir() + "/experiments/demo.yaml" + kArgs + "--out " + run;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}
void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A run stopped by SIGTERM mid-epoch: its resume.pt (and a run.json that is not "finished").
struct StoppedRun {
  test::TempDir d;
  std::string run = d / "run", state = d / "run/resume.pt", pristine;
  StoppedRun() {
    std::string out;
    test::run_command("(" + std::string(LRBENCH_BIN) + " " + train_cmd(run) + " > " + (d / "log") +
                          " 2>&1 & P=$!; for i in $(seq 600); do [ -f " + state +
                          " ] && break; sleep 0.02; done; kill -TERM $P; wait $P; echo rc=$?)",
                      &out);
    pristine = slurp(state);
  }
};

// `--resume` with `bytes` as resume.pt: refused in one line that names the file and the fix.
void expect_refused(const StoppedRun& r, const std::string& bytes, const std::string& what) {
  spit(r.state, bytes);
  auto res = lrbench(train_cmd(r.run) + " --resume");
  EXPECT_EQ(res.code, 1) << what << "\n" << res.out;
  ASSERT_EQ(res.error_lines.size(), 1u) << what << "\n" << res.out;
  const auto& line = res.error_lines[0];
  EXPECT_NE(line.find(r.state), std::string::npos) << what << ": " << line;
  EXPECT_NE(line.find("delete it to start the run from the beginning"), std::string::npos) << what << ": " << line;
  EXPECT_EQ(line.find("lower"), std::string::npos) << what << ": called divergence: " << line;
  EXPECT_EQ(slurp(r.run + "/run.json").find("\"finished\""), std::string::npos) << what;
}

TEST(ResumeState, AChangeAnywhereOrACutIsRefusedNamingTheFileAndTheFix) {
  StoppedRun r;
  ASSERT_GT(r.pristine.size(), 1000u) << slurp(r.d / "log");
  auto flip = [&](size_t at) {
    std::string b = r.pristine;
    b[at] = static_cast<char>(b[at] ^ 0x5a);
    return b;
  };
  const size_t n = r.pristine.size();
  expect_refused(r, flip(n - 200), "a byte near the end of the archive");
  expect_refused(r, flip(n / 2), "a byte mid-file");
  expect_refused(r, flip(n - 30), "a byte of the checksum trailer");
  expect_refused(r, flip(n - 75), "a byte of the trailer's tag");
  expect_refused(r, r.pristine.substr(0, n - 81), "the trailer cut off");
  expect_refused(r, r.pristine.substr(0, n / 3), "a file cut to a third");
  // The intact state resumes and the run finishes.
  spit(r.state, r.pristine);
  auto ok = lrbench(train_cmd(r.run) + " --resume");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(slurp(r.run + "/run.json").find("\"finished\""), std::string::npos);
}

TEST(ResumeState, AFifoOrAFolderInItsPlaceIsRefusedAtOnce) {
  StoppedRun r;
  fs::remove(r.state);
  ASSERT_EQ(::mkfifo(r.state.c_str(), 0600), 0);
  // `timeout`: a reader that waits for a writer would hang here; exit 124 would tell.
  auto fifo = lrbench(train_cmd(r.run) + " --resume", "timeout 120");
  EXPECT_EQ(fifo.code, 1) << fifo.out;
  ASSERT_EQ(fifo.error_lines.size(), 1u) << fifo.out;
  EXPECT_NE(fifo.error_lines[0].find("resume.pt: is a FIFO"), std::string::npos) << fifo.error_lines[0];
  EXPECT_NE(fifo.error_lines[0].find("delete it"), std::string::npos) << fifo.error_lines[0];
  fs::remove(r.state);
  fs::create_directory(r.state);
  auto dir = lrbench(train_cmd(r.run) + " --resume");
  EXPECT_EQ(dir.code, 1) << dir.out;
  ASSERT_EQ(dir.error_lines.size(), 1u) << dir.out;
  EXPECT_NE(dir.error_lines[0].find("resume.pt: is a directory"), std::string::npos) << dir.error_lines[0];
  // checkpoint.pt as a FIFO: eval refuses it at once too.
  fs::remove(r.state);
  ASSERT_EQ(lrbench(train_cmd(r.run) + " --resume").code, 0);
  fs::remove(r.run + "/checkpoint.pt");
  ASSERT_EQ(::mkfifo((r.run + "/checkpoint.pt").c_str(), 0600), 0);
  auto ev = lrbench("eval " + r.run + " --threat gaussian", "timeout 120");
  EXPECT_EQ(ev.code, 1) << ev.out;
  ASSERT_EQ(ev.error_lines.size(), 1u) << ev.out;
  EXPECT_NE(ev.error_lines[0].find("checkpoint.pt: is a FIFO"), std::string::npos) << ev.error_lines[0];
}

}  // namespace
