// Determinism, checkpoint round trip and evaluation, on a small slice of Fashion-MNIST.
#include <nlohmann/json.hpp>
#include <algorithm>
#include <filesystem>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/fs.h"
#include "experiments/checkpoint.h"
#include "experiments/evaluator.h"
#include "experiments/train_run.h"
#include "core/seed.h"
#include "trainers/optim.h"
#include "tests/support/experiment.h"

using namespace lrb;

namespace {
const std::vector<std::string> kQuick = {"dataset.limit_train=3000", "dataset.limit_test=1000", "train.epochs=2",
                                         "threads=2"};
std::vector<std::string> quick(std::vector<std::string> extra = {}) {
  auto v = kQuick;
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}
}  // namespace

TEST(TrainRun, WritesTheRunDirectory) {
  test::TempDir d;
  auto r = train_run(test::experiment("demo.yaml", quick()), d.path());
  ASSERT_EQ(r.epochs.size(), 2u);
  for (auto f : {"config.resolved.yaml", "checkpoint.pt", "metrics.csv", "log.txt", "run.json"})
    EXPECT_TRUE(std::filesystem::exists(d / f)) << f;
  auto metrics = CsvTable::load(d / "metrics.csv");
  EXPECT_EQ(metrics.header(), (std::vector<std::string>{"epoch", "loss", "train_acc", "test_acc", "seconds"}));
  EXPECT_EQ(metrics.rows().size(), 2u);
  auto meta = read_checkpoint_meta(d / "checkpoint.pt");
  EXPECT_EQ(meta.model_key, "mlp");
  EXPECT_EQ(meta.trainer_key, "bp");
  EXPECT_EQ(meta.epoch, 2);
  EXPECT_FALSE(meta.git_commit.empty());
  EXPECT_EQ(meta.torch_version.substr(0, 1), std::string(TORCH_VERSION).substr(0, 1));
  // No temp files survive a successful run.
  for (const auto& e : std::filesystem::directory_iterator(d.path()))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(TrainRun, SameSeedGivesBitwiseIdenticalCheckpoints) {
  test::TempDir a, b, c;
  train_run(test::experiment("demo.yaml", quick()), a.path());
  train_run(test::experiment("demo.yaml", quick()), b.path());
  train_run(test::experiment("demo.yaml", quick({"seed=1"})), c.path());
  // Compared as booleans: a failure must not print megabytes of zip bytes.
  EXPECT_TRUE(read_text(a / "checkpoint.pt") == read_text(b / "checkpoint.pt"));
  EXPECT_EQ(read_text(a / "metrics.csv").substr(0, 40), read_text(b / "metrics.csv").substr(0, 40));
  EXPECT_FALSE(read_text(a / "checkpoint.pt") == read_text(c / "checkpoint.pt"));
}

TEST(TrainRun, CheckpointRoundTripRestoresTheModel) {
  test::TempDir d;
  auto root = test::experiment("demo.yaml", quick());
  train_run(root, d.path());
  // Two fresh models from the run's own config: one loaded, compared with what eval reports.
  RunParts p = plan_run(parse_yaml_file(d / "config.resolved.yaml"));
  materialize(p);
  auto before = p.model->forward(p.dataset->test().rows(torch::arange(8))).clone();
  load_checkpoint(d / "checkpoint.pt", *p.model, nullptr, nullptr, "mlp", to_yaml(p.spec.model.node()));
  auto after = p.model->forward(p.dataset->test().rows(torch::arange(8)));
  EXPECT_FALSE(torch::equal(before, after));  // the loaded weights are not the fresh initialisation
  auto table = evaluate_run(d.path());
  ASSERT_EQ(table.rows().size(), 1u);
  const auto& h = table.header();
  for (auto col : {"model", "algorithm", "metric", "accuracy", "dataset", "seed", "n", "git_commit"})
    EXPECT_NE(std::find(h.begin(), h.end(), col), h.end()) << col;
  auto metrics = CsvTable::load(d / "metrics.csv");
  double trained = std::stod(metrics.rows().back()[3]);
  EXPECT_NEAR(std::stod(table.rows()[0][3]), trained, 0.005);  // eval reproduces the last epoch's test accuracy
  EXPECT_EQ(table.rows()[0][0], "MLP");
  EXPECT_EQ(table.rows()[0][1], "BP");
  EXPECT_TRUE(std::filesystem::exists(d / "eval/clean.csv"));
}

TEST(TrainRun, MismatchedModelIsRefused) {
  test::TempDir d;
  train_run(test::experiment("demo.yaml", quick({"train.epochs=1"})), d.path());
  RunParts p = plan_run(test::experiment("demo.yaml", quick({"model.hidden=[64]"})));
  materialize(p);
  try {
    load_checkpoint(d / "checkpoint.pt", *p.model, nullptr, nullptr, "mlp", to_yaml(p.spec.model.node()));
    FAIL() << "loaded a checkpoint into a differently shaped model";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("model options differ"), std::string::npos) << e.what();
  }
  try {
    load_checkpoint(d / "checkpoint.pt", *p.model, nullptr, nullptr, "resnet5", "");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("holds model 'mlp' but the config asks for 'resnet5'"), std::string::npos)
        << e.what();
  }
  // Without the options check, the shape mismatch itself is still reported in one line.
  try {
    load_checkpoint(d / "checkpoint.pt", *p.model, nullptr, nullptr, "mlp", "");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(TrainRun, NanLossStopsWithEpochAndStepAndKeepsTheLastCheckpoint) {
  test::TempDir d;
  // Epoch 1 trains at lr 0.01, epoch 2 at 0.01 * 1e32: the run stops in epoch 2 with epoch 1's checkpoint.
  auto diverging = quick({"train.optimizer.name=sgd", "train.optimizer.lr=0.01", "train.scheduler.name=step",
                          "train.scheduler.step_size=1", "train.scheduler.gamma=1e32"});
  try {
    train_run(test::experiment("demo.yaml", diverging), d.path());
    FAIL() << "a run at lr=1e30 did not diverge";
  } catch (const TrainingError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("epoch 2 step"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the checkpoint of epoch 1 (the last good one) is kept"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_checkpoint_meta(d / "checkpoint.pt").epoch, 1);
  // The kept checkpoint is whole (its sha256 is recorded) and finite (load_checkpoint would refuse NaN).
  RunParts p = plan_run(parse_yaml_file(d / "config.resolved.yaml"));
  materialize(p);
  auto info = read_text(d / "run.json");
  EXPECT_NE(info.find("\"status\": \"failed\""), std::string::npos) << info;
  auto bytes = read_text(d / "checkpoint.pt");
  load_checkpoint(d / "checkpoint.pt", *p.model, nullptr, nullptr, "mlp", to_yaml(p.spec.model.node()),
                  digest_hex(bytes.data(), bytes.size()));
  EXPECT_NE(info.find(digest_hex(bytes.data(), bytes.size())), std::string::npos) << info;
}

TEST(Checkpoint, OptimizerStateRoundTripsSoAResumedStepMatches) {
  for (std::string name : {"adam", "sgd"}) {
    test::TempDir d;
    auto root = test::experiment("demo.yaml", quick({"model.hidden=[16]", "train.optimizer.name=" + name,
                                                     "train.optimizer.momentum=" + std::string(name == "sgd" ? "0.9" : "0")}));
    RunParts a = plan_run(root), b = plan_run(root);
    materialize(a);
    materialize(b);
    auto opt_a = make_optimizer(a.spec.train.optimizer, a.model->parameters());
    auto opt_b = make_optimizer(b.spec.train.optimizer, b.model->parameters());
    auto batch = a.dataset->train().rows(torch::arange(32));
    auto gen = make_generator(0);
    auto step = [&](RunParts& p, torch::optim::Optimizer& o) {
      p.trainer->estimate_grad(*p.model, batch, gen);
      o.step();
    };
    step(a, *opt_a);
    step(a, *opt_a);
    save_checkpoint(d / "c.pt", *a.model, opt_a.get(), nullptr, CheckpointMeta{});
    load_checkpoint(d / "c.pt", *b.model, opt_b.get(), nullptr, "", "");
    step(a, *opt_a);
    step(b, *opt_b);
    auto pa = a.model->parameters(), pb = b.model->parameters();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << name << " param " << i;
  }
}

// Best-validation selection (GCN/GAT originals): the checkpoint holds the epoch with the best validation
// accuracy, run.json and the metrics say which, and a dataset without a validation split is refused.
TEST(TrainRun, BestValKeepsTheBestValidationEpoch) {
  test::TempDir d;
  auto r = train_run(test::experiment("table3.yaml", {"train.epochs=12", "train.select=best-val", "threads=2"}), d.path());
  auto metrics = CsvTable::load(d / "metrics.csv");
  ASSERT_EQ(metrics.header().back(), "val_acc");
  int best = 0;
  double best_val = -1, best_test = 0;
  for (const auto& row : metrics.rows())
    if (std::stod(row[5]) > best_val) best_val = std::stod(row[5]), best = std::stoi(row[0]), best_test = std::stod(row[3]);
  EXPECT_EQ(read_checkpoint_meta(d / "checkpoint.pt").epoch, best);
  auto run = nlohmann::json::parse(read_text(d / "run.json"));
  EXPECT_EQ(run["selected"]["epoch"].get<int>(), best);
  EXPECT_NEAR(100 * r.final_test_acc, best_test, 1e-3);
  // The checkpoint's parameters are that epoch's: re-evaluating gives its test accuracy.
  EvalRequest req;
  req.run_dir = d.path();
  auto table = evaluate(req);
  EXPECT_NEAR(std::stod(table.rows().at(0).at(3)), best_test, 0.01);
  EXPECT_THROW(train_run(test::experiment("demo.yaml", quick({"train.select=best-val"})), d.path() + "/x"), ConfigError);
}

// A spiking net without a surrogate has no input gradient: a white-box attack on it is refused before any work
// (nothing written), while the same net with the sigmoid surrogate is attacked (FGSM at eps 0.1 moves it). In
// transfer mode (--source) the surrogate-free net is scored on inputs crafted on the other one.
TEST(TrainRun, SpikingNetWhiteBoxRefusalAndTransfer) {
  test::TempDir none, sigmoid;
  for (const auto* d : {&none, &sigmoid})
    train_run(test::experiment("demo.yaml", quick({"model=snn", "model.hidden=[32]", "model.steps=4", "train.epochs=1",
                                                   std::string("model.surrogate=") + (d == &none ? "none" : "sigmoid")})),
              d->path());
  EvalRequest req;
  req.run_dir = none.path();
  req.threat = "fgsm";
  req.overrides = {"threat.eps=0.1"};
  try {
    evaluate(req);
    ADD_FAILURE() << "fgsm on a surrogate-free snn was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.surrogate"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(none / "eval")) << "a refused evaluation wrote a result";

  auto white = req;
  white.run_dir = sigmoid.path();
  auto t = evaluate(white);
  ASSERT_EQ(t.rows().size(), 2u);
  EXPECT_EQ(t.rows()[0][0], "SNN-FashionMNIST");
  const auto& cols = result_columns();
  const size_t mode = std::find(cols.begin(), cols.end(), "mode") - cols.begin();
  const size_t zero_grad = std::find(cols.begin(), cols.end(), "zero_grad") - cols.begin();
  EXPECT_EQ(t.rows()[1][mode], "white-box");
  EXPECT_EQ(t.rows()[0][zero_grad], "") << "the clean row takes no gradient";
  EXPECT_EQ(t.rows()[1][zero_grad], "0") << "a surrogate gradient on an FGSM cell is nowhere exactly zero here";
  const double clean = std::stod(t.rows()[0][3]);
  EXPECT_LT(std::stod(t.rows()[1][3]), clean - 5) << "FGSM did not move the spiking net";

  auto transfer = req;
  transfer.source_run = sigmoid.path();
  auto tt = evaluate(transfer);
  ASSERT_EQ(tt.rows().size(), 1u);  // attacks only: clean accuracy does not depend on the source
  EXPECT_EQ(tt.rows()[0][2], "FGSM");
  EXPECT_EQ(tt.rows()[0][mode], "transfer from BP");
  // The inputs were crafted on the source (the surrogate-free net has no gradient to craft them on).
  EXPECT_GT(std::stoll(tt.rows()[0][15]), 0);  // queries of the source
  // The run itself as its source is a white-box evaluation, not a transfer.
  auto itself = req;
  itself.source_run = none.path();
  EXPECT_THROW(evaluate(itself), ConfigError);
  EXPECT_TRUE(std::filesystem::exists(none / "eval/fgsm.transfer.csv"));
  // A corruption has nothing to transfer.
  transfer.threat = "gaussian";
  transfer.overrides = {};
  EXPECT_THROW(evaluate(transfer), ConfigError);
}
