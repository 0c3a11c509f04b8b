#include "experiments/evaluator.h"

#include "experiments/run_lock.h"
#include "experiments/snapshots.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "core/fs.h"
#include "core/selection_split_name.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "core/registry.h"
#include "experiments/checkpoint.h"
#include "experiments/names.h"
#include "experiments/run_dir.h"
#include "experiments/suite.h"
#include "experiments/train_run.h"
#include "lrb_git_sha.h"
#include "models/layered.h"
#include "datasets/tokenizer.h"
#include "threats/text/text_attack.h"
#include "threats/victim.h"
#include "trainers/fit.h"
#include "trainers/progress.h"

namespace lrb {

namespace fs = std::filesystem;

namespace {

struct Loaded {
  RunParts parts;
  CheckpointMeta meta;
  RunRecord record;
  torch::Device device = torch::kCPU;
  bool older_config = false;  // written before configs recorded their defaults: model options compared loosely
};

Loaded load_run(const std::string& run_dir) {
  const auto config_path = (fs::path(run_dir) / "config.resolved.yaml").string();
  const auto ckpt_path = (fs::path(run_dir) / "checkpoint.pt").string();
  if (!fs::exists(config_path))
    throw CheckpointError(config_path + ": not found; '" + run_dir +
                          "' is not a run directory (make one with: lrbench train EXPERIMENT.yaml --out DIR)");
  if (!fs::exists(ckpt_path)) {
    // A run that failed before its first checkpoint: read_run_record says why.
    if (fs::exists(fs::path(run_dir) / "run.json") && read_run_record(run_dir, false).status == "failed")
      read_run_record(run_dir);
    throw CheckpointError(ckpt_path + ": checkpoint not found (the run did not finish an epoch; train it again)");
  }
  Loaded l;
  auto root = parse_yaml_file(config_path);
  l.parts = plan_run(root, /*memory_share=*/0);  // the run trained; an eval batch is sized by eval.batch_size
  // Before the data is read: the checkpoint must hash to what run.json recorded, and config, run.json and
  // checkpoint must name one spec (a directory mixing two runs would report one's accuracy under the
  // other's config).
  l.record = read_run_record(run_dir);
  auto meta = read_checkpoint_meta(ckpt_path, l.record.checkpoint_sha256);
  // A run trained by an lrbench before configs recorded their defaults and presets hashes differently today:
  // its own statement is checked, and the difference said.
  auto stated = config_header_hash(run_dir);
  if (stated.empty()) stated = l.parts.spec.hash;
  l.older_config = stated != l.parts.spec.hash;
  // Runs written since record the complete config (run.json config_schema 2): a difference there is an edit.
  if (l.older_config && l.record.config_schema >= 2)
    throw CheckpointError(fmt::format("{}: states spec {} but resolves to spec {}: the file was edited after the run "
                                      "(or a default or preset changed since); retrain, or evaluate with the lrbench "
                                      "that trained it",
                                      (fs::path(run_dir) / "config.resolved.yaml").string(), stated, l.parts.spec.hash));
  if (l.older_config)
    logger("eval")->warn("{}: its config.resolved.yaml states spec {}, which resolves to spec {} today (written by an "
                         "older lrbench, or a default or preset changed since): the model is built from the recorded "
                         "config with today's defaults",
                         run_dir, stated, l.parts.spec.hash);
  auto record = check_run_is_whole(run_dir, stated, meta.spec_hash);
  // The kept checkpoint of a failed or unfinished run is a real model, but not the run's result.
  if (record.status != "finished")
    logger("eval")->warn("{}: run status is '{}': evaluating the checkpoint of epoch {}, not a finished run",
                         run_dir, record.status, record.checkpoint_epoch);
  return l;
}

// Accuracy of `model` on `inputs` (already perturbed), counted over the batch's counted examples.
// With eval.noise: on, the prediction of the stochastic model (Victim::logits: the mean softmax of noisy passes).
int64_t count_correct(ClassifierImpl& model, const Batch& inputs, const Victim::Noise* noise = nullptr) {
  torch::NoGradGuard no_grad;
  torch::Tensor all;
  if (noise) {
    Victim judge(model);
    judge.set_noise(*noise);
    all = judge.logits(inputs);
  } else {
    all = model.forward(inputs);
  }
  auto logits = inputs.select(all);
  return logits.argmax(1).eq(inputs.targets()).sum().item<int64_t>();
}

struct ThreatResult {
  int64_t correct = 0, n = 0, queries = 0;
  std::optional<int64_t> zero_grad, grad_n;  // set when the attack took input gradients of the evaluated model
  double seconds = 0;
  // Text attacks (TextAttack's summary): attacked examples, successes, words changed (% per success), queries.
  std::optional<int64_t> attacked;
  int64_t succeeded = 0;
  double words_changed_pct = 0, attack_queries = 0;  // sums
};

// How many test examples a suite asking for n of them scores: n, all of them when n is 0 or more than there are, and
// a graph's whole test mask always.
int64_t scored_count(const Batch& test, int64_t n) {
  if (test.modality == Modality::kGraph) return test.mask.defined() ? test.mask.sum().item<int64_t>() : test.size();
  return n > 0 ? std::min<int64_t>(n, test.x.size(0)) : test.x.size(0);
}

// The examples scored_count(test, n) counts: the first n.
Batch first_examples(const Batch& test, int64_t n) {
  // host: the test set lives on the host; each batch moves to the device below
  const int64_t k = scored_count(test, n);
  if (test.modality != Modality::kGraph && k < test.x.size(0)) return test.rows(torch::arange(k, torch::kLong));
  return test;
}

// What the evaluator knows about the data that threats may use: text datasets add their vocabulary and
// the sentences of their test rows.
ThreatContext threat_context(const DatasetSource& data) {
  ThreatContext ctx;
  ctx.input = data.input_spec();
  ctx.num_classes = data.num_classes();
  if (const auto* v = data.vocabulary()) {
    std::vector<std::string> words;
    words.reserve(v->size());
    for (int64_t i = 0; i < v->size(); ++i) words.push_back(v->word(i));
    ctx.vocab = std::make_shared<const TextVocab>(std::move(words), datasets::Vocab::kPad, datasets::Vocab::kUnk);
  }
  if (auto sentences = data.test_sentences(); !sentences.empty())
    ctx.sentences = std::make_shared<const std::vector<std::vector<int32_t>>>(std::move(sentences));
  return ctx;
}

// Keys in the order a reader wants them (ordered_json), not alphabetical.
nlohmann::ordered_json example_json(const Threat& threat, const text::AttackRecord& r, int64_t offset) {
  return {{"index", offset + r.index},   {"label", r.label},       {"original", r.original},
          {"adversarial", r.adversarial}, {"changed", r.changed},   {"queries", r.queries},
          {"success", r.success},         {"p_original", r.p_original}, {"p_adversarial", r.p_adversarial},
          {"threat", threat.key()},       {"params", threat.params()}};
}

// `source`: the model attacks craft their inputs on (transfer mode); the evaluated model otherwise.
ThreatResult run_threat(ClassifierImpl& model, Threat* threat, const Batch& test, const Suite& suite,
                        const ThreatContext& ctx, const torch::Device& device,
                        std::vector<nlohmann::ordered_json>* examples = nullptr, ClassifierImpl* source = nullptr,
                        const Victim::Noise* noise = nullptr) {
  ThreatResult r;
  auto t0 = std::chrono::steady_clock::now();
  const bool graph = test.modality == Modality::kGraph;
  const int64_t n_rows = graph ? 1 : test.x.size(0);
  const int64_t step = graph ? 1 : suite.batch_size;
  const uint64_t seed = threat ? derive_seed(suite.seed, threat->key() + "|" + threat->params()) : 0;
  auto gen = make_generator(seed, device);
  Progress bar(1, 1, (n_rows + step - 1) / step);
  model.eval();
  for (int64_t b0 = 0, k = 0; b0 < n_rows; b0 += step, ++k) {
    // host: rows of the host test set, and each example's corruption seed
    auto index = torch::arange(b0, std::min(n_rows, b0 + step), torch::kLong);
    Batch clean = (graph ? test : test.rows(index)).to(device);
    Batch input = clean;
    if (auto* c = dynamic_cast<const Corruption*>(threat)) {
      input = corrupt(*c, clean, index, seed, ctx);
    } else if (auto* a = dynamic_cast<Attack*>(threat)) {
      Victim victim(source ? *source : model);
      if (noise && !source) victim.set_noise(*noise);  // transfer: crafted on the source as it is
      input = a->perturb(victim, clean, gen);
      r.queries += victim.queries();
      // Transfer: the gradients were the source's, which says nothing about this model's.
      if (!source && victim.gradient_examples() > 0) {
        r.zero_grad = r.zero_grad.value_or(0) + victim.zero_gradient_examples();
        r.grad_n = r.grad_n.value_or(0) + victim.gradient_examples();
      }
      if (auto* text_attack = dynamic_cast<text::TextAttack*>(a)) {
        r.attacked = r.attacked.value_or(0);
        for (const auto& rec : text_attack->take_records()) {
          *r.attacked += 1;
          r.attack_queries += static_cast<double>(rec.queries);
          if (rec.success)
            ++r.succeeded, r.words_changed_pct += 100.0 * static_cast<double>(rec.changed.size()) /
                                                  static_cast<double>(std::max<size_t>(rec.original.size(), 1));
          if (examples) examples->push_back(example_json(*a, rec, b0));
        }
      }
    }
    r.correct += count_correct(model, input, noise);
    r.n += clean.size();
    bar.update(k + 1, 0, r.n ? static_cast<double>(r.correct) / r.n : 0, r.n);
  }
  bar.finish();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The model of another run (a transfer source, a match target), built for this run's data and loaded from its
// checkpoint onto `device`.
void load_model_of(Loaded& other, const std::string& run_dir, const DatasetSource& data, const torch::Device& device) {
  ModelContext mctx{data.input_spec(), data.num_classes()};
  other.parts.model = Registry<ClassifierImpl>::get().make(other.parts.spec.model, mctx);
  other.meta = load_checkpoint((fs::path(run_dir) / "checkpoint.pt").string(), *other.parts.model, nullptr, nullptr,
                               other.parts.model->key(), other.older_config ? "" : to_yaml(other.parts.spec.model.node()),
                               other.record.checkpoint_sha256);
  other.parts.model->to(device);
}

}  // namespace

CsvTable evaluate(const EvalRequest& req) {
  // One process per run at a time (experiments/run_lock.h): a run still training is refused with that reason,
  // and two evals never share its eval/ folder. Only a directory that holds a run gets a lock file.
  // A run that has just started training may have no config yet: only probed, the probe reports it as training.
  std::optional<RunLock> lock;
  if (fs::exists(fs::path(req.run_dir) / "config.resolved.yaml"))
    lock.emplace(req.run_dir, "eval");
  else if (fs::is_directory(req.run_dir))
    refuse_if_busy(req.run_dir, "eval");
  // A transfer source is only read: refused while it trains, shared with other readers.
  std::error_code same;
  if (!req.source_run.empty() && fs::is_directory(req.source_run) && !fs::equivalent(req.source_run, req.run_dir, same))
    refuse_if_busy(req.source_run, "eval");  // (the run as its own source is refused below, as a white-box eval)
  Loaded l = load_run(req.run_dir);
  auto& p = l.parts;
  std::vector<Snapshot> snapshots;
  std::optional<Loaded> target;  // --match: the run whose clean accuracy is matched
  if (!req.match_run.empty()) {
    if (!req.source_run.empty()) throw ConfigError("--match", "give --match or --source, not both");
    snapshots = list_snapshots(req.run_dir);
    if (snapshots.empty())
      throw ConfigError("--match", fmt::format("{} has no snapshots (train it with train.snapshot_every=N)", req.run_dir));
    std::error_code same_run;
    if (fs::equivalent(req.match_run, req.run_dir, same_run))
      throw ConfigError("--match", req.match_run + " is the evaluated run itself (give the LR or ES run to match)");
    refuse_if_busy(req.match_run, "eval");
    target = load_run(req.match_run);
  }
  std::optional<Loaded> src;  // transfer mode: checked before any data is read, its model built after
  if (!req.source_run.empty()) src = load_run(req.source_run);
  // Every threat is built and checked before the data is read or the model loaded.
  Suite suite;
  std::string stem = "clean";
  if (!req.threat.empty()) {
    suite = single_threat_suite(req.threat, req.overrides);
    stem = req.threat;
  } else if (!req.suite.empty()) {
    suite = load_suite(find_suite(req.suite), req.overrides);
    stem = suite.name;
  } else {
    suite = clean_suite(req.overrides);
  }
  // A threat of the wrong modality (a text attack on images) is refused before the data is read.
  check_fits(suite, p.dataset->modality(), p.dataset->key());
  if (!req.examples_jsonl.empty()) {
    bool any_text_attack = false;
    for (const auto* list : {&suite.threats, &suite.sweep})
      for (const auto& t : *list) any_text_attack |= dynamic_cast<const text::TextAttack*>(t.threat.get()) != nullptr;
    if (!any_text_attack)
      throw ConfigError("--examples", "no text attack to record (it lists the examples of pwws or ga; add "
                                      "--threat pwws, or drop --examples)");
  }
  if (src) {
    bool any_attack = false;
    for (const auto* list : {&suite.threats, &suite.sweep})
      for (const auto& t : *list) any_attack |= dynamic_cast<const Attack*>(t.threat.get()) != nullptr;
    if (!any_attack)
      throw ConfigError("--source", "no attack to transfer (corruptions never see a model; give --suite or --threat "
                                    "with an attack)");
    if (fs::equivalent(req.source_run, req.run_dir))
      throw ConfigError("--source", req.source_run + " is the evaluated run itself (that is a white-box evaluation: drop --source)");
    if (src->parts.dataset->key() != p.dataset->key())
      throw ConfigError("--source", fmt::format("{} is a run on '{}', {} on '{}' (give the source run of the same dataset)",
                                                req.source_run, src->parts.dataset->key(), req.run_dir, p.dataset->key()));
  }
  materialize(p, /*training=*/false);
  const ThreatContext ctx = threat_context(*p.dataset);
  check_fits(suite, p.dataset->modality(), p.dataset->key(), &ctx);
  for (const auto* list : {&suite.threats, &suite.sweep})
    for (const auto& t : *list)
      if (auto* a = dynamic_cast<Attack*>(t.threat.get())) a->bind(ctx);
  const auto ckpt_path = (fs::path(req.run_dir) / "checkpoint.pt").string();
  // eval.noise: on needs the trainer's state too (its σ, learned or not).
  if (suite.noise) p.trainer->attach(*p.model);
  // An older run's stored options lack the defaults filled in today; its parameters are still checked by shape.
  l.meta = load_checkpoint(ckpt_path, *p.model, nullptr, suite.noise ? p.trainer.get() : nullptr, p.model->key(),
                           l.older_config ? "" : to_yaml(p.spec.model.node()), l.record.checkpoint_sha256);
  auto device = pick_device(p.spec.device);
  p.model->to(device);  // a checkpoint's tensors keep the device they were saved from
  // Transfer mode: the source run's model, checked to be a model of the same data.
  std::string mode = "white-box";
  if (src) {
    load_model_of(*src, req.source_run, *p.dataset, device);
    mode = "transfer from " + paper_algorithm_name(src->meta.trainer_key);
    stem += ".transfer";
    logger("eval")->info("transfer mode: attacks crafted on {} ({} {}, seed {}, spec {})", req.source_run,
                         src->meta.model_key, src->meta.trainer_key, src->meta.seed, src->meta.spec_hash);
    if (src->meta.model_key != l.meta.model_key || src->meta.seed != l.meta.seed)
      logger("eval")->warn("the source is a {} of seed {}, the evaluated run a {} of seed {}: the table's transfer rows "
                           "pair runs of the same model and seed", src->meta.model_key, src->meta.seed,
                           l.meta.model_key, l.meta.seed);
  }
  std::optional<std::pair<fs::path, std::string>> match_record;  // written once the matched results are saved
  if (target) {
    if (target->parts.dataset->key() != p.dataset->key())
      throw ConfigError("--match", fmt::format("{} is a run on '{}', {} on '{}' (match runs of the same dataset)",
                                               req.match_run, target->parts.dataset->key(), req.run_dir,
                                               p.dataset->key()));
    load_model_of(*target, req.match_run, *p.dataset, device);
    // The same model and seed: a table pairs them, and a seeded split (AG News) would otherwise score the target on
    // examples it trained on.
    if (target->meta.model_key != l.meta.model_key || target->meta.seed != l.meta.seed)
      throw ConfigError("--match", fmt::format("{} is a {} of seed {}, {} a {} of seed {} (match runs of the same model "
                                               "and seed)",
                                               req.match_run, target->meta.model_key, target->meta.seed, req.run_dir,
                                               l.meta.model_key, l.meta.seed));
    const SelectionSplit split = selection_split(*p.dataset, snapshots.front().examples);
    const std::string& split_name = split.name;
    const int64_t bs = p.spec.train.eval_batch_size;
    // Snapshots of a run from before the choice moved to the last test examples (measured on "test[:N]") are
    // re-scored on this split once, their records rewritten (this eval holds the run's lock), so the choice is
    // made on the examples a suite scoring the first ones does not score. Any other mismatch means the data changed.
    bool rescored = false;
    for (auto& s : snapshots) {
      if (s.split == split_name) continue;
      if (s.split.rfind("test[:", 0) != 0 || split.first_test < 0)
        throw DataError(fmt::format("{}: its snapshots were measured on {}, this dataset's selection split is {} (the "
                                    "data changed since it trained)",
                                    req.run_dir, s.split, split_name));
      if (!rescored)
        logger("eval")->info("re-scoring the snapshots of {} on {} (they were measured on {}; once)", req.run_dir,
                             split_name, s.split);
      rescored = true;
      load_checkpoint(s.file, *p.model, nullptr, nullptr, p.model->key(),
                      l.older_config ? "" : to_yaml(p.spec.model.node()), s.sha256);
      p.model->to(device);
      s.accuracy = 100 * evaluate_accuracy(*p.model, split.batch, bs, device);
      s.split = split_name, s.examples = split.batch.size();
      write_snapshot_record(s);
    }
    const double acc = 100 * evaluate_accuracy(*target->parts.model, split.batch, bs, device);
    const auto match = match_snapshot(snapshots, acc);
    // The suite scores the first examples (its own n_examples, or a threat's; a graph always its whole test mask):
    // how many of them the choice saw.
    const Batch& test_set = p.dataset->test();
    int64_t scored = scored_count(test_set, suite.n_examples);
    for (const auto* list : {&suite.threats, &suite.sweep})
      for (const auto& t : *list)
        if (t.n_examples >= 0) scored = std::max(scored, scored_count(test_set, t.n_examples));
    const int64_t overlap = split_overlap(split_name, scored).value_or(0);
    if (overlap > 0)
      logger("eval")->warn("the matched snapshot is chosen on {}, which holds {} of the {} test examples the suite "
                           "scores: a small selection effect{}",
                           split_name, overlap, scored,
                           split.first_test > 0 ? fmt::format(" (a suite scoring at most the first {} avoids it)",
                                                              split.first_test)
                                                : "");
    const std::string alg = paper_algorithm_name(target->meta.trainer_key);
    stem += ".matched-" + target->meta.trainer_key;
    nlohmann::ordered_json record = {{"target_run", req.match_run},     {"target_algorithm", alg},
                                     {"target_accuracy", std::round(acc * 1e4) / 1e4},          {"split", split_name},
                                     {"tolerance_pp", kMatchTolerancePp}, {"matched", match.chosen.has_value()},
                                     {"snapshot", fs::path(match.nearest->file).filename().string()},
                                     {"snapshot_step", match.nearest->step},
                                     {"snapshot_accuracy", match.nearest->accuracy},
                                     {"rescored", rescored},
                                     {"scored_examples_in_split", overlap}};
    const auto record_path = fs::path(req.run_dir) / "eval" / (stem + ".json");
    fs::create_directories(record_path.parent_path());
    // Until this evaluation has saved its results, no choice of an earlier one may claim them.
    std::error_code gone;
    fs::remove(record_path, gone);
    if (!match.chosen) {
      // The refusal is the result: no matched rows (an earlier matched evaluation of this pair would be stale).
      for (const auto& variant : {stem, stem + ".noise"}) {
        const auto base = fs::path(req.run_dir) / "eval" / variant;
        for (const char* ext : {".csv", ".sweep.csv"}) fs::remove(fs::path(base).concat(ext), gone);
        fs::remove_all(fs::path(base).concat(".csv.parts"), gone);
      }
      if (!req.out_csv.empty()) {
        fs::remove(req.out_csv, gone);
        fs::remove(fs::path(req.out_csv).replace_extension(".sweep.csv"), gone);
      }
      write_text_atomic(record_path.string(), record.dump(2) + "\n");
      logger("eval")->warn("no snapshot of {} within {} pp of {}'s clean accuracy {:.2f}% on {} (nearest: step {}, "
                           "{:.2f}%): no matched rows -> {}",
                           req.run_dir, kMatchTolerancePp, alg, acc, split_name, match.nearest->step,
                           match.nearest->accuracy, record_path.string());
      return CsvTable(result_columns());
    }
    l.meta = load_checkpoint(match.chosen->file, *p.model, nullptr, nullptr, p.model->key(),
                             l.older_config ? "" : to_yaml(p.spec.model.node()), match.chosen->sha256);
    p.model->to(device);
    l.record.checkpoint_sha256 = match.chosen->sha256;  // the parts of this evaluation are the snapshot's
    mode = "matched to " + alg;
    match_record.emplace(record_path, record.dump(2) + "\n");
    logger("eval")->info("matched: {} step {} ({:.2f}% on {}) for {}'s {:.2f}%", req.run_dir, match.chosen->step,
                         match.chosen->accuracy, split_name, alg, acc);
  }
  ClassifierImpl* source = src ? src->parts.model.get() : nullptr;
  // eval.noise: on — the trainer's noise at every site of the evaluated model, from its own generator.
  auto noise_gen = make_generator(derive_seed(suite.seed, "eval.noise"), device);
  std::optional<Victim::Noise> noise;
  if (suite.noise) {
    auto hook = p.trainer->inference_noise(*p.model, noise_gen);
    auto* lm = dynamic_cast<LayeredModel*>(p.model.get());
    if (!hook || !lm)
      throw ConfigError("eval.noise", fmt::format("{}: the run's trainer '{}' has no training noise to keep on at "
                                                  "inference (LR-L and LR-WL have); use eval.noise: off",
                                                  req.run_dir, p.trainer->key()));
    noise = Victim::Noise{[lm, hook] { lm->layer_hook = hook; }, [lm] { lm->layer_hook = nullptr; },
                          suite.noise_samples, suite.eot_iter};
    mode = (mode != "white-box" ? mode + ", " : std::string()) +
           fmt::format("noise on: {} samples, EOT {}", suite.noise_samples, suite.eot_iter);
    stem += ".noise";  // beside the noise-off results, never over them
  }
  // A model without an input gradient (a spiking net with surrogate none) is refused for gradient attacks
  // here, before any threat runs and with nothing written, rather than reported as robust to a no-op attack.
  if (auto why = (source ? *source : *p.model).input_grad_refusal(); !why.empty())
    for (const auto* list : {&suite.threats, &suite.sweep})
      for (const auto& t : *list)
        if (auto* a = dynamic_cast<const Attack*>(t.threat.get()); a && a->needs_input_grad())
          throw GradientError((source ? req.source_run : req.run_dir) + ": " + t.threat->key() +
                              " needs the input gradient; " + why);

  const Batch& all = p.dataset->test();
  const Batch test = first_examples(all, suite.n_examples);
  // A threat's own n_examples (suite entry) overrides eval.n_examples.
  auto test_for = [&](const SuiteThreat& t) { return t.n_examples >= 0 ? first_examples(all, t.n_examples) : test; };
  std::vector<nlohmann::ordered_json> examples;
  auto* examples_out = req.examples_jsonl.empty() ? nullptr : &examples;
  auto log = logger("eval");

  auto row = [&](CsvTable& t, const std::string& metric, const ThreatResult& r, const std::string& params,
                 const std::string& key) {
    t.add({paper_model_name(l.meta.model_key, p.dataset->key()), paper_algorithm_name(l.meta.trainer_key), metric,
           fmt::format("{:.2f}", r.n ? 100.0 * r.correct / r.n : 0.0), p.dataset->label(), std::to_string(l.meta.seed),
           std::to_string(r.n), std::to_string(r.correct), LRB_GIT_SHA, l.meta.spec_hash, std::to_string(l.meta.epoch),
           params, l.meta.model_key, l.meta.trainer_key, key, std::to_string(r.queries), fmt::format("{:.2f}", r.seconds),
           mode, r.zero_grad ? std::to_string(*r.zero_grad) : "", r.grad_n ? std::to_string(*r.grad_n) : "",
           r.attacked ? std::to_string(*r.attacked) : "",
           r.attacked ? fmt::format("{:.2f}", *r.attacked ? 100.0 * r.succeeded / *r.attacked : 0.0) : "",
           r.attacked ? fmt::format("{:.2f}", r.succeeded ? r.words_changed_pct / r.succeeded : 0.0) : "",
           r.attacked ? fmt::format("{:.1f}", *r.attacked ? r.attack_queries / *r.attacked : 0.0) : ""});
    log->info("{} {} {:<9} {:6.2f}% ({}/{}) {:.1f} s {}", l.meta.model_key, l.meta.trainer_key, metric,
              r.n ? 100.0 * r.correct / r.n : 0.0, r.correct, r.n, r.seconds, params);
  };

  const auto out = req.out_csv.empty() ? (fs::path(req.run_dir) / "eval" / (stem + ".csv")).string() : req.out_csv;
  // Each threat's rows are kept in OUT.parts/ as soon as they are measured, so an interrupted evaluation
  // (even kill -9) run again skips the threats it has done. A part is reused only for the same checkpoint,
  // source, threat, settings and examples (its file name hashes them); text attacks asked for --examples
  // are measured again, since their records are not kept.
  const fs::path parts = fs::path(out).concat(".parts");
  const std::string identity = fmt::format("parts-v2|{}|{}|{}|{}|{}|{}", LRB_GIT_SHA, l.record.checkpoint_sha256,
                                           src ? src->record.checkpoint_sha256 : "", suite.seed, suite.batch_size, mode);
  int part_index = 0;
  std::vector<fs::path> our_parts;  // the only files the clean-up below deletes
  auto measure = [&](CsvTable& t, const SuiteThreat* entry) {
    Threat* threat = entry ? entry->threat.get() : nullptr;
    const Batch inputs = entry ? test_for(*entry) : test;
    const std::string key = threat ? threat->key() : "", params = threat ? threat->params() : "";
    const std::string id = identity + "|" + key + "|" + params + "|" + std::to_string(inputs.size());
    const auto part = parts / fmt::format("{:03d}-{}.csv", part_index++, digest_hex(id.data(), id.size()).substr(0, 16));
    const bool records = examples_out && dynamic_cast<const text::TextAttack*>(threat);
    our_parts.push_back(part);
    CsvTable one(result_columns());
    if (!records && fs::exists(part) && CsvTable::load(part.string()).header() == result_columns()) {
      one = CsvTable::load(part.string());  // a part of an older lrbench (other columns) is measured again
      log->info("{} {}: measured by an earlier, interrupted run; reusing {}", key.empty() ? "Ori" : key, params,
                part.string());
    } else {
      // The noise of each threat's evaluation is its own stream: results do not depend on the threats before.
      noise_gen.set_current_seed(derive_seed(suite.seed, "eval.noise|" + key + "|" + params));
      row(one, threat ? threat->metric() : "Ori",
          run_threat(*p.model, threat, inputs, suite, ctx, device, examples_out, source, noise ? &*noise : nullptr),
          params, key);
      fs::create_directories(parts);
      one.save(part.string());
    }
    for (const auto& r : one.rows()) t.add(r);
  };

  CsvTable table(result_columns());
  // Transfer mode runs the attacks only: clean accuracy and corruptions do not depend on the source.
  // Attacks marked `transfer: false` in the suite are white-box only.
  auto skip = [&](const SuiteThreat& t) {
    return source && (!dynamic_cast<const Attack*>(t.threat.get()) || !t.transfer);
  };
  if (!source) measure(table, nullptr);
  for (const auto& t : suite.threats)
    if (!skip(t)) measure(table, &t);
  if (!suite.sweep.empty()) {
    CsvTable sweep(result_columns());
    for (const auto& t : suite.sweep)
      if (!skip(t)) measure(sweep, &t);
    auto sweep_path = fs::path(out);
    sweep_path.replace_extension(".sweep.csv");
    if (!sweep.rows().empty()) sweep.save(sweep_path.string());  // transfer mode skips a corruption-only sweep
  }
  table.save(out);
  if (match_record) write_text_atomic(match_record->first.string(), match_record->second);
  // Only our own part files go, then the folder if that left it empty: a user's files beside --out stay.
  std::error_code ec;
  for (const auto& f : our_parts) fs::remove(f, ec);
  fs::remove(parts, ec);
  log->info("-> {}", out);
  if (examples_out) {
    std::string text;
    for (const auto& e : examples) text += e.dump() + "\n";
    write_text_atomic(req.examples_jsonl, text);
    log->info("-> {} ({} attacked examples)", req.examples_jsonl, examples.size());
  }
  return table;
}

}  // namespace lrb
