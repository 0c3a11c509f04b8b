#include "experiments/train_run.h"

#include <torch/torch.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "experiments/checkpoint.h"
#include "lrb_git_sha.h"
#include "trainers/fit.h"
#include "trainers/optim.h"

namespace lrb {

namespace fs = std::filesystem;

RunParts plan_run(const NodePtr& root) {
  RunParts p;
  p.spec = decode_spec(root);
  DataContext ctx{resolve_data_root(p.spec.data_root), derive_seed(p.spec.seed, "data")};
  p.dataset = Registry<DatasetSource>::get().make(p.spec.dataset, ctx);
  p.trainer = Registry<Trainer>::get().make(p.spec.trainer);
  // The model needs the data's shape to be built, but its key is checked now, before any work.
  auto model_key = p.spec.model.require<std::string>("name");
  Registry<ClassifierImpl>::get().at(model_key, p.spec.model.where("name"));
  if (p.spec.eval.node()) {
    int64_t n = 0;
    p.spec.eval.read("batch_size", n, Range::at_least(1));
  }
  // Every section but the model's options is fully read by now, so typos there fail before any work;
  // the model's options are checked once the model is built (it needs the data's shape).
  auto model_node = p.spec.model.node();
  const bool was_used = model_node->used;
  model_node->used = false;
  Config(root, "").reject_unread_keys();
  model_node->used = was_used;
  return p;
}

void materialize(RunParts& p) {
  set_determinism(p.spec.seed);
  set_threads(p.spec.threads);
  auto device = pick_device(p.spec.device);
  p.dataset->load();
  ModelContext mctx{p.dataset->input_spec(), p.dataset->num_classes()};
  torch::manual_seed(derive_seed(p.spec.seed, "model/init"));
  p.model = Registry<ClassifierImpl>::get().make(p.spec.model, mctx);
  if (p.model->modality() != p.dataset->modality())
    throw ConfigError(p.spec.model.where("name"),
                      fmt::format("model '{}' takes {} input but dataset '{}' is {}", p.model->key(),
                                  modality_name(p.model->modality()), p.dataset->key(),
                                  modality_name(p.dataset->modality())));
  p.model->to(device);
  p.trainer->attach(*p.model);
  Config(p.spec.root, "").reject_unread_keys();
}

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void write_metrics(const std::string& path, const std::vector<EpochRecord>& rows) {
  CsvTable t({"epoch", "loss", "train_acc", "test_acc", "seconds"});
  for (const auto& r : rows)
    t.add({std::to_string(r.epoch), csv_number(r.loss), csv_number(100 * r.train_acc, 6),
           csv_number(100 * r.test_acc, 6), csv_number(r.seconds, 4)});
  t.save(path);
}

}  // namespace

TrainResult train_run(const NodePtr& root, const std::string& out_dir) {
  auto wall0 = std::chrono::steady_clock::now();
  const std::string started = now_iso();
  RunParts p = plan_run(root);
  materialize(p);
  const auto& spec = p.spec;
  auto device = pick_device(spec.device);
  auto log = logger("train");

  fs::create_directories(out_dir);
  log_to_file((fs::path(out_dir) / "log.txt").string());
  log->info("run {} | spec {} | git {} | LibTorch {} | device {} | threads {} | seed {}", spec.name, spec.hash,
            LRB_GIT_SHA, torch_version(), device.str(), at::get_num_threads(), spec.seed);
  log->info("dataset {} | model {} | trainer {}", p.dataset->label(), p.model->key(), p.trainer->key());
  write_text_atomic((fs::path(out_dir) / "config.resolved.yaml").string(),
                    fmt::format("# lrbench resolved config: spec_hash {} git {} (reproduce: lrbench train {} --out "
                                "DIR)\n",
                                spec.hash, LRB_GIT_SHA, (fs::path(out_dir) / "config.resolved.yaml").string()) +
                        to_yaml(spec.root));

  auto params = p.model->parameters();
  for (auto& t : p.trainer->parameters()) params.push_back(t);
  auto opt = make_optimizer(spec.train.optimizer, params);

  CheckpointMeta meta;
  meta.model_key = p.model->key();
  meta.model_options = to_yaml(spec.model.node());
  meta.trainer_key = p.trainer->key();
  meta.dataset_label = p.dataset->label();
  meta.spec_hash = spec.hash;
  meta.git_commit = LRB_GIT_SHA;
  meta.torch_version = torch_version();
  meta.seed = static_cast<int64_t>(spec.seed);

  TrainResult result;
  result.run_dir = out_dir;
  const std::string ckpt = (fs::path(out_dir) / "checkpoint.pt").string();
  FitHooks hooks;
  hooks.on_epoch = [&](const EpochStats& e) {
    result.epochs.push_back({static_cast<int>(e.epoch), e.loss, e.train_acc, e.test_acc, e.seconds});
    write_metrics((fs::path(out_dir) / "metrics.csv").string(), result.epochs);
    if (e.epoch % spec.train.checkpoint_every == 0 || e.epoch == spec.train.epochs) {
      meta.epoch = e.epoch;
      meta.test_acc = e.test_acc;
      save_checkpoint(ckpt, *p.model, opt.get(), p.trainer.get(), meta);
    }
  };
  fit(*p.model, *p.trainer, *opt, *p.dataset, spec.train, device, spec.seed, 0, hooks);
  result.final_test_acc = result.epochs.empty() ? 0 : result.epochs.back().test_acc;

  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  nlohmann::json info = {{"experiment", spec.name},
                         {"spec_hash", spec.hash},
                         {"seed", spec.seed},
                         {"git_commit", LRB_GIT_SHA},
                         {"torch_version", torch_version()},
                         {"device", device.str()},
                         {"threads", at::get_num_threads()},
                         {"dataset", p.dataset->label()},
                         {"model", p.model->key()},
                         {"trainer", p.trainer->key()},
                         {"started", started},
                         {"finished", now_iso()},
                         {"seconds", total},
                         {"final_test_acc", 100 * result.final_test_acc}};
  write_text_atomic((fs::path(out_dir) / "run.json").string(), info.dump(2) + "\n");
  log->info("done in {:.1f} s: test accuracy {:.2f}% -> {}", total, 100 * result.final_test_acc, out_dir);
  return result;
}

}  // namespace lrb
