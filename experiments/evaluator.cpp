#include "experiments/evaluator.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/errors.h"
#include "core/log.h"
#include "core/runtime.h"
#include "experiments/checkpoint.h"
#include "experiments/names.h"
#include "experiments/train_run.h"
#include "lrb_git_sha.h"
#include "trainers/fit.h"

namespace lrb {

namespace fs = std::filesystem;

CsvTable evaluate_run(const std::string& run_dir, const std::string& out_csv) {
  const auto config_path = (fs::path(run_dir) / "config.resolved.yaml").string();
  const auto ckpt_path = (fs::path(run_dir) / "checkpoint.pt").string();
  if (!fs::exists(config_path))
    throw CheckpointError(config_path + ": not found; '" + run_dir +
                          "' is not a run directory (make one with: lrbench train EXPERIMENT.yaml --out DIR)");
  if (!fs::exists(ckpt_path))
    throw CheckpointError(ckpt_path + ": checkpoint not found (the run did not finish an epoch; train it again)");
  auto root = parse_yaml_file(config_path);
  RunParts p = plan_run(root);
  read_checkpoint_meta(ckpt_path);  // a corrupt checkpoint fails before the data is read
  materialize(p);
  auto meta = load_checkpoint(ckpt_path, *p.model, nullptr, nullptr, p.model->key(), to_yaml(p.spec.model.node()));
  auto device = pick_device(p.spec.device);
  int64_t batch = p.spec.train.eval_batch_size;
  p.spec.eval.read("batch_size", batch, Range::at_least(1));
  int64_t n_correct = 0;
  double acc = evaluate_accuracy(*p.model, p.dataset->test(), batch, device, &n_correct);
  CsvTable t(result_columns());
  t.add({paper_model_name(meta.model_key), paper_algorithm_name(meta.trainer_key), "Ori", fmt::format("{:.2f}", 100 * acc),
         p.dataset->label(), std::to_string(meta.seed), std::to_string(p.dataset->test().size()),
         std::to_string(n_correct), LRB_GIT_SHA, meta.spec_hash, std::to_string(meta.epoch), ""});
  const auto out = out_csv.empty() ? (fs::path(run_dir) / "eval" / "clean.csv").string() : out_csv;
  t.save(out);
  logger("eval")->info("{} {} on {}: clean accuracy {:.2f}% ({} / {}) -> {}", meta.model_key, meta.trainer_key,
                       p.dataset->label(), 100 * acc, n_correct, p.dataset->test().size(), out);
  return t;
}

}  // namespace lrb
