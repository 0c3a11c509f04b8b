// Issue 7: non-finite guards of the fit loop, checkpoint checksums and NaN refusal, and the run-directory
// rules, on a tiny in-memory model and dataset (no data files).
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/fs.h"
#include "core/seed.h"
#include "experiments/checkpoint.h"
#include "experiments/run_dir.h"
#include "trainers/fit.h"
#include "trainers/optim.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

class TinyImpl : public ClassifierImpl {
 public:
  TinyImpl() { fc = register_module("fc", torch::nn::Linear(4, 3)); }
  torch::Tensor forward(const Batch& b) override { return fc->forward(b.x.flatten(1)); }
  std::string key() const override { return "tiny"; }
  Modality modality() const override { return Modality::kImage; }
  torch::nn::Linear fc{nullptr};
};

class Data : public DatasetSource {
 public:
  Data() {
    auto gen = make_generator(0);
    split_.x = torch::rand({40, 1, 2, 2}, gen);
    split_.y = torch::randint(3, {40}, gen, torch::kLong);
  }
  std::string key() const override { return "tiny-data"; }
  Modality modality() const override { return Modality::kImage; }
  int64_t num_classes() const override { return 3; }
  void load() override {}
  const Batch& train() const override { return split_; }
  const Batch& test() const override { return split_; }
  InputSpec input_spec() const override { return {{1, 2, 2}, {}, {}, 0, 0}; }
  std::string label() const override { return "tiny-data"; }
  std::vector<FileCheck> verify() const override { return {}; }

 private:
  Batch split_;
};

// Exact gradients, except that from step `bad_step` (1-based, counted over the run) it reports `loss` and
// sets every gradient to `grad` when those are given.
class Stub : public Trainer {
 public:
  int64_t bad_step = 0;
  double loss = 0;
  float grad = 0;
  bool set_grad = false;
  int64_t steps = 0;
  std::string key() const override { return "stub"; }
  StepStats estimate_grad(ClassifierImpl& model, const Batch& b, at::Generator&) override {
    ++steps;
    for (auto& p : model.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    auto logits = model.forward(b);
    auto l = torch::nn::functional::cross_entropy(logits, b.y);
    l.backward();
    StepStats s{l.item<double>(), 0, b.y.size(0), b.y.size(0)};
    if (bad_step > 0 && steps >= bad_step) {
      if (loss != 0) s.loss = loss;
      if (set_grad)
        for (auto& p : model.parameters()) p.mutable_grad().fill_(grad);
    }
    return s;
  }
};

TrainSpec spec(int64_t epochs = 1) {
  TrainSpec t;
  t.epochs = epochs;
  t.batch_size = 10;  // 4 steps an epoch
  t.optimizer.name = "sgd";
  t.optimizer.lr = 0.1;
  return t;
}

std::string fit_error(TinyImpl& model, Stub& trainer, const TrainSpec& s) {
  Data data;
  auto opt = make_optimizer(s.optimizer, model.parameters());
  try {
    fit(model, trainer, *opt, data, s, torch::kCPU, 0, FitPosition{}, {});
  } catch (const TrainingError& e) {
    return e.what();
  }
  return "<no error>";
}

bool all_finite(ClassifierImpl& m) {
  for (auto& p : m.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

}  // namespace

TEST(FitGuard, NonFiniteLossStopsWithEpochAndStepAndNoCheckpointClaim) {
  TinyImpl model;
  Stub t;
  t.bad_step = 3;
  t.loss = std::nan("");
  auto msg = fit_error(model, t, spec());
  EXPECT_NE(msg.find("epoch 1 step 3: training loss is nan"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("checkpoint"), std::string::npos) << msg;  // fit cannot know what is on disk
}

TEST(FitGuard, NonFiniteGradientStopsBeforeTheUpdate) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    TinyImpl model;
    Stub t;
    t.bad_step = 2;
    t.set_grad = true;
    t.grad = bad;
    auto msg = fit_error(model, t, spec());
    EXPECT_NE(msg.find("epoch 1 step 2: the gradient estimate of 'fc."), std::string::npos) << msg;
    EXPECT_NE(msg.find("from trainer 'stub' is not finite"), std::string::npos) << msg;
    EXPECT_TRUE(all_finite(model)) << "the bad gradient reached the parameters";
  }
}

TEST(FitGuard, OverflowingUpdateStopsAfterTheStep) {
  TinyImpl model;
  Stub t;
  t.bad_step = 6;  // epoch 2 step 2
  t.set_grad = true;
  t.grad = 3e38f;  // finite, but lr * grad overflows float32
  auto s = spec(3);
  s.optimizer.lr = 10;
  auto msg = fit_error(model, t, s);
  EXPECT_NE(msg.find("epoch 2 step 2: parameter 'fc."), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not finite after the optimizer step"), std::string::npos) << msg;
}

TEST(CheckpointIntegrity, NonFiniteModelOrOptimizerStateIsNeverWritten) {
  test::TempDir d;
  TinyImpl model;
  {
    torch::NoGradGuard g;
    model.fc->weight[0][0] = std::numeric_limits<float>::quiet_NaN();
  }
  try {
    save_checkpoint(d / "c.pt", model, nullptr, nullptr, CheckpointMeta{});
    FAIL() << "wrote a checkpoint holding NaN";
  } catch (const TrainingError& e) {
    EXPECT_NE(std::string(e.what()).find("'fc.weight' holds NaN or Inf"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(d / "c.pt"));
  // Finite parameters but an optimizer state that overflowed (Adam's exp_avg_sq of a 1e30 gradient).
  TinyImpl m2;
  auto opt = make_optimizer(OptimizerSpec{}, m2.parameters());
  for (auto& p : m2.parameters()) p.mutable_grad() = torch::full_like(p, 1e30);
  opt->step();
  ASSERT_TRUE(all_finite(m2));
  EXPECT_THROW(save_checkpoint(d / "c.pt", m2, opt.get(), nullptr, CheckpointMeta{}), TrainingError);
  EXPECT_FALSE(std::filesystem::exists(d / "c.pt"));
}

TEST(CheckpointIntegrity, Sha256IsVerifiedOnLoadAndNaNIsRefused) {
  test::TempDir d;
  TinyImpl a, b;
  const float marker = 0.123456789f;
  {
    torch::NoGradGuard g;
    a.fc->weight[1][2] = marker;
  }
  auto sha = save_checkpoint(d / "c.pt", a, nullptr, nullptr, CheckpointMeta{});
  auto bytes = read_text(d / "c.pt");
  EXPECT_EQ(sha, digest_hex(bytes.data(), bytes.size()));
  load_checkpoint(d / "c.pt", b, nullptr, nullptr, "", "", sha);
  EXPECT_FLOAT_EQ(b.fc->weight[1][2].item<float>(), marker);

  // One stored float changed: LibTorch loads it without complaint, the recorded sha256 does not match.
  auto at = bytes.find(std::string(reinterpret_cast<const char*>(&marker), 4));
  ASSERT_NE(at, std::string::npos);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  bytes.replace(at, 4, std::string(reinterpret_cast<const char*>(&nan), 4));
  std::ofstream(d / "c.pt", std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_checkpoint(d / "c.pt", b, nullptr, nullptr, "", "", sha);
    FAIL() << "an altered checkpoint loaded";
  } catch (const CheckpointError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(d / "c.pt: sha256 ", 0), 0u) << msg;
    EXPECT_NE(msg.find("does not match"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_THROW(read_checkpoint_meta(d / "c.pt", sha), CheckpointError);
  // Without an explicit sha256, the one a run.json beside the file records is checked.
  write_text_atomic(d / "run.json", nlohmann::json{{"checkpoint", {{"file", "c.pt"}, {"sha256", sha}}}}.dump());
  EXPECT_THROW(read_checkpoint_meta(d / "c.pt"), CheckpointError);
  EXPECT_THROW(load_checkpoint(d / "c.pt", b, nullptr, nullptr, "", ""), CheckpointError);
  std::filesystem::remove(d / "run.json");
  // Without a recorded sha256 (a run from before checksums), the NaN itself is refused.
  try {
    load_checkpoint(d / "c.pt", b, nullptr, nullptr, "", "");
    FAIL() << "a checkpoint holding NaN loaded";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("'fc.weight' holds NaN or Inf"), std::string::npos) << e.what();
  }
}

TEST(RunDir, OutDirHoldingAnythingIsRefused) {
  test::TempDir d;
  require_free_out_dir(d / "new", "aaaa");  // absent: fine
  require_free_out_dir(d.path(), "aaaa");   // empty: fine
  auto error = [&](const std::string& dir) -> std::string {
    try {
      require_free_out_dir(dir, "aaaa");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  };
  std::filesystem::create_directories(d / "other");
  write_text_atomic(d / "other/run.json", R"({"spec_hash": "bbbb"})");
  EXPECT_NE(error(d / "other").find("holds another run (spec bbbb, this one is aaaa)"), std::string::npos);
  std::filesystem::create_directories(d / "early");  // stopped before its first checkpoint: no run.json
  write_text_atomic(d / "early/config.resolved.yaml", "# lrbench resolved config: spec_hash cccc git x\nname: x\n");
  EXPECT_NE(error(d / "early").find("holds another run (spec cccc"), std::string::npos) << error(d / "early");
  std::filesystem::create_directories(d / "same");
  write_text_atomic(d / "same/run.json", R"({"spec_hash": "aaaa"})");
  EXPECT_NE(error(d / "same").find("same spec (aaaa); continue it with lrbench train ... --resume"), std::string::npos);
  std::filesystem::create_directories(d / "stray");
  write_text_atomic(d / "stray/notes.txt", "x");
  EXPECT_NE(error(d / "stray").find("holds no lrbench run"), std::string::npos);
  EXPECT_NE(error(d / "stray/notes.txt").find("names a file"), std::string::npos);
}

TEST(RunDir, RecordAndSpecsMustAgree) {
  test::TempDir d;
  EXPECT_THROW(read_run_record(d.path()), CheckpointError);  // no run.json
  write_text_atomic(d / "run.json", R"({"spec_hash": "aaaa"})");
  try {
    read_run_record(d.path());
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("records no checkpoint sha256"), std::string::npos) << e.what();
  }
  write_text_atomic(d / "run.json", R"({"spec_hash": "aaaa", "checkpoint": {"sha256": "00", "epoch": 2}})");
  auto r = check_run_is_whole(d.path(), "aaaa", "aaaa");
  EXPECT_EQ(r.checkpoint_epoch, 2);
  try {
    check_run_is_whole(d.path(), "bbbb", "aaaa");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("config.resolved.yaml: belongs to spec bbbb but run.json to spec aaaa"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(check_run_is_whole(d.path(), "aaaa", "bbbb"), CheckpointError);
}
