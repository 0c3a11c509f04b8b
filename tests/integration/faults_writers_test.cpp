// Faults, kind 2: one writer per run directory (experiments/run_lock.h). A second train or --resume of a run
// that is training, and an eval of it, are refused naming the holder ("still training", pid), never called
// damaged; a second eval of a run being evaluated is refused; a crashed holder leaves no stale lock.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "tests/support/cli.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using test::lrbench;

std::string demo() { return test::source_dir() + "/experiments/demo.yaml"; }
// Long enough to outlast every refused command below (~10 s an epoch here); the fixture stops it.
const std::string kSlow = " trainer=lr-wl dataset.limit_test=100 train.epochs=20 ";

// A training run started in the background; waits until it holds the run's lock.
struct Background {
  std::string out, log;
  explicit Background(const std::string& run, const std::string& args) : out(run), log(run + ".log") {
    test::run_command("(" + std::string(LRBENCH_BIN) + " train " + demo() + args + " --out " + run + " > " + log +
                      " 2>&1 &)");
    for (int i = 0; i < 400 && !holds_lock(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  bool holds_lock() const {
    std::ifstream f(out + "/.lock");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    return s.find("lrbench train") != std::string::npos;
  }
  // Stopped and waited for (it saves its state on SIGTERM) before the temp folder goes.
  ~Background() {
    test::run_command("pkill -f -- '--out " + out + "'; for i in $(seq 100); do pgrep -f -- '--out " + out +
                      "' >/dev/null || break; sleep 0.1; done");
  }
};

TEST(Writers, ASecondTrainResumeOrEvalOfARunThatTrainsIsRefusedNamingIt) {
  test::TempDir d;
  Background first(d / "run", kSlow);
  ASSERT_TRUE(first.holds_lock());
  for (const std::string extra : {"", "--resume"}) {
    auto r = lrbench("train " + demo() + kSlow + "--out " + (d / "run") + " " + extra);
    EXPECT_EQ(r.code, 1) << extra << r.out;
    ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
    EXPECT_NE(r.error_lines[0].find("still training (pid "), std::string::npos) << r.error_lines[0];
  }
  // An eval finds the run before its first checkpoint: refused for that reason, never called damaged or "not a
  // run directory".
  auto e = lrbench("eval " + (d / "run") + " --threat gaussian");
  EXPECT_EQ(e.code, 1) << e.out;
  ASSERT_EQ(e.error_lines.size(), 1u) << e.out;
  EXPECT_NE(e.error_lines[0].find("still training"), std::string::npos) << e.error_lines[0];
  EXPECT_NE(e.error_lines[0].find("evaluate it when training has finished"), std::string::npos) << e.error_lines[0];
  EXPECT_EQ(e.out.find("damaged"), std::string::npos) << e.out;
  std::ifstream log(d / "run/log.txt");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_EQ(text.find("resuming"), std::string::npos) << "the refused --resume wrote into the run's log";
}

TEST(Writers, AnEvalOfARunBeingEvaluatedIsRefusedAndALockDiesWithItsHolder) {
  test::TempDir d;
  auto t = lrbench("train " + demo() + " dataset.limit_train=200 dataset.limit_test=50 train.epochs=1 --out " + (d / "run"));
  ASSERT_EQ(t.code, 0) << t.out;
  {  // another process's eval holds the run (this test process plays it)
    const int fd = ::open((d / "run/.lock").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
    const std::string me = "pid 4242 lrbench eval\n";
    ASSERT_EQ(ftruncate(fd, 0), 0);
    ASSERT_EQ(pwrite(fd, me.data(), me.size(), 0), static_cast<ssize_t>(me.size()));
    auto e = lrbench("eval " + (d / "run") + " --threat gaussian");
    EXPECT_EQ(e.code, 1) << e.out;
    ASSERT_EQ(e.error_lines.size(), 1u) << e.out;
    EXPECT_NE(e.error_lines[0].find("another lrbench process is working on this run (pid 4242 lrbench eval)"),
              std::string::npos)
        << e.error_lines[0];
    EXPECT_FALSE(std::filesystem::exists(d / "run/eval/gaussian.csv"));
    ::close(fd);  // the holder ends (as a kill -9 would end it): its lock goes with it
  }
  auto ok = lrbench("eval " + (d / "run") + " --threat gaussian");
  EXPECT_EQ(ok.code, 0) << ok.out;
}

// A run killed before it wrote any file leaves only its lock file (and perhaps a temp file of an atomic write): the
// directory counts as empty for a new train, which removes the stale temp file.
TEST(Writers, ADirectoryHoldingOnlyTheLockFileCountsAsEmpty) {
  test::TempDir d;
  std::filesystem::create_directories(d / "run");
  std::ofstream(d / "run/.lock") << "pid 1 lrbench train\n";
  std::ofstream(d / "run/config.resolved.yaml.tmp.77") << "half";
  auto r = lrbench("train " + demo() + " dataset.limit_train=200 dataset.limit_test=50 train.epochs=1 --out " + (d / "run"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d / "run/config.resolved.yaml.tmp.77")) << "the stale temp file is removed";
}

}  // namespace
