#include "experiments/spec.h"

#include "core/errors.h"
#include "core/fs.h"

#include <fmt/format.h>

#include <regex>

namespace lrb {

namespace {

OptimizerSpec decode_optimizer(const Config& c) {
  OptimizerSpec o;
  c.read_choice("name", o.name, {"adam", "sgd"});
  c.read("lr", o.lr, Range::positive());
  c.read("momentum", o.momentum, Range::between(0, 1));
  c.read("weight_decay", o.weight_decay, Range::at_least(0));
  c.read("nesterov", o.nesterov);
  if (o.nesterov && o.momentum <= 0) c.fail("nesterov", "needs momentum > 0", "momentum > 0", "momentum 0");
  return o;
}

SchedulerSpec decode_scheduler(const Config& c) {
  SchedulerSpec s;
  c.read_choice("name", s.name, {"none", "step"});
  c.read("step_size", s.step_size, Range::at_least(1));
  c.read("gamma", s.gamma, Range::positive());
  return s;
}

TrainSpec decode_train(const Config& c) {
  TrainSpec t;
  c.read("epochs", t.epochs, Range::at_least(1));
  c.read("batch_size", t.batch_size, Range::at_least(1));
  c.read("eval_batch_size", t.eval_batch_size, Range::at_least(1));
  c.read("checkpoint_every", t.checkpoint_every, Range::at_least(1));
  c.read("checkpoint_every_steps", t.checkpoint_every_steps, Range::at_least(0));
  c.read("log_every", t.log_every, Range::at_least(0));
  c.read("steps_every", t.steps_every, Range::at_least(0));
  c.read("max_steps", t.max_steps, Range::at_least(0));
  c.read_choice("select", t.select, {"last", "best-val"});
  // Read only when given: a run without snapshots keeps the spec (and spec hash) it had before the keys existed.
  if (c.has("snapshot_every")) c.read("snapshot_every", t.snapshot_every, Range::at_least(0));
  if (c.has("snapshot_examples")) c.read("snapshot_examples", t.snapshot_examples, Range::at_least(1));
  t.optimizer = decode_optimizer(c.sub("optimizer"));
  t.scheduler = decode_scheduler(c.sub("scheduler"));
  return t;
}

}  // namespace

ExperimentSpec decode_spec(const NodePtr& root) {
  ExperimentSpec s;
  s.root = root;
  Config top(root, "");
  top.read("name", s.name);
  int64_t seed = 0;
  top.read("seed", seed, Range::at_least(0));
  s.seed = static_cast<uint64_t>(seed);
  top.read("threads", s.threads);
  top.read("device", s.device);
  // Syntax here, so `check` refuses what `train` would (device availability is a property of the machine
  // that runs it, checked by train).
  if (s.threads != "auto" && !std::regex_match(s.threads, std::regex("[1-9][0-9]{0,5}")))
    throw ConfigError(top.where("threads"), fmt::format("threads: invalid value (got '{}', expected 'auto' or a "
                                                         "positive integer)",
                                                         s.threads));
  if (!std::regex_match(s.device, std::regex("auto|cpu|cuda(:[0-9]+)?")))
    throw ConfigError(top.where("device"),
                      fmt::format("device: invalid value (got '{}', expected auto, cpu, cuda or cuda:N)", s.device));
  top.read("data_root", s.data_root);
  for (const char* section : {"dataset", "model", "trainer"})
    if (!top.has(section))
      throw ConfigError(top.where(), std::string("missing required section '") + section +
                                         "' (add it, or compose it with defaults: [" + section + ": <option>])");
  s.dataset = top.sub("dataset");
  s.model = top.sub("model");
  s.trainer = top.sub("trainer");
  s.eval = top.sub("eval");
  s.train = decode_train(top.sub("train"));
  top.has("gradcheck");  // decoded by `lrbench gradcheck` only; known here so `train` accepts the same file
  s.hash = spec_hash(root);
  return s;
}

}  // namespace lrb
