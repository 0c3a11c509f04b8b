#include "experiments/train_run.h"

#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/memory_meter.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "core/stop_request.h"
#include "core/tensorboard.h"
#include "experiments/checkpoint.h"
#include "experiments/resume_state.h"
#include "experiments/run_dir.h"
#include "experiments/run_lock.h"
#include "experiments/snapshots.h"
#include "experiments/step_memory.h"
#include "lrb_git_sha.h"
#include "trainers/fit.h"
#include "trainers/optim.h"

namespace lrb {

namespace fs = std::filesystem;

namespace {

void check_modality(const RunParts& p, const ClassifierImpl& model) {
  if (model.modality() != p.dataset->modality())
    throw ConfigError(p.spec.model.where("name"),
                      fmt::format("model '{}' takes {} input but dataset '{}' is {} (choose a model for {} input, "
                                  "see lrbench list models, or another dataset)",
                                  model.key(), modality_name(model.modality()), p.dataset->key(),
                                  modality_name(p.dataset->modality()), modality_name(p.dataset->modality())));
}

}  // namespace

RunParts plan_run(const NodePtr& root, double memory_share) {
  RunParts p;
  RecordDefaults record_defaults;
  p.spec = decode_spec(root);
  DataContext ctx{resolve_data_root(p.spec.data_root), derive_seed(p.spec.seed, "data")};
  p.dataset = Registry<DatasetSource>::get().make(p.spec.dataset, ctx);
  p.trainer = Registry<Trainer>::get().make(p.spec.trainer);
  if (p.spec.train.select == "best-val" && !p.dataset->validation())
    throw ConfigError(fmt::format("train.select: best-val needs a validation split and dataset '{}' has none; use "
                                  "train.select=last (or a dataset with one, such as cora)",
                                  p.dataset->key()));
  // A throw-away model built from the shape the dataset declares before loading, and a throw-away
  // trainer attached to it: they read (and so check) every model option, the model's fit to the dataset
  // and the trainer's fit to the model, so `check` rejects what `train` would. Their state is never used;
  // materialize() builds the real model from the loaded data and the seed.
  {
    torch::NoGradGuard no_grad;
    ModelContext probe{p.dataset->input_spec(), p.dataset->num_classes()};
    ClassifierImpl::Ptr model;
    try {
      model = build_within_memory(
          p.spec, [&] { return Registry<ClassifierImpl>::get().make(p.spec.model, probe); }, memory_share > 0);
    } catch (const c10::Error& e) {  // a model's own shape check (e.g. 32x32 images only)
      std::string what = e.what_without_backtrace();
      throw ConfigError(p.spec.model.where("name"), fmt::format("model cannot take dataset '{}': {} (choose another model or "
                                                          "dataset; lrbench list models)",
                                                          p.dataset->label(), what.substr(0, what.find('\n'))));
    }
    check_modality(p, *model);
    if (memory_share > 0) p.memory = check_step_memory(p.spec, *p.dataset, *model, memory_share);
    auto trainer = Registry<Trainer>::get().make(p.spec.trainer);
    trainer->attach(*model);
    for (const auto& r : trainer->resolved_settings()) {
      p.spec.trainer.record(r.key, r.values, r.source);
      p.resolved_from["trainer." + r.key] = r.source;
    }
  }
  if (p.spec.eval.node()) {
    int64_t n = 0;
    p.spec.eval.read("batch_size", n, Range::at_least(1));
  }
  Config(root, "").reject_unread_keys();
  p.spec.hash = spec_hash(root);
  return p;
}

void materialize(RunParts& p, bool training) {
  set_determinism(p.spec.seed);
  set_threads(p.spec.threads);
  auto device = pick_device(p.spec.device);
  p.dataset->load();
  ModelContext mctx{p.dataset->input_spec(), p.dataset->num_classes()};
  torch::manual_seed(derive_seed(p.spec.seed, "model/init"));
  p.model = build_within_memory(
      p.spec, [&] { return Registry<ClassifierImpl>::get().make(p.spec.model, mctx); }, training);
  check_modality(p, *p.model);
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

// A val_acc column only for datasets with a validation split, so other runs keep the five columns.
void write_metrics(const std::string& path, const std::vector<EpochRecord>& rows) {
  const bool val = !rows.empty() && rows.front().val_acc >= 0;
  std::vector<std::string> cols = {"epoch", "loss", "train_acc", "test_acc", "seconds"};
  if (val) cols.push_back("val_acc");
  CsvTable t(cols);
  for (const auto& r : rows) {
    std::vector<std::string> f = {std::to_string(r.epoch), csv_number(r.loss), csv_number(100 * r.train_acc, 6),
                                  csv_number(100 * r.test_acc, 6), csv_number(r.seconds, 4)};
    if (val) f.push_back(csv_number(100 * r.val_acc, 6));
    t.add(f);
  }
  t.save(path);
}

// The model's parameters and buffers, copied (best-val selection keeps the best epoch's).
std::vector<std::pair<std::string, torch::Tensor>> snapshot(ClassifierImpl& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value().detach().clone());
  return out;
}
void restore(ClassifierImpl& m, const std::vector<std::pair<std::string, torch::Tensor>>& s) {
  torch::NoGradGuard no_grad;
  auto params = m.named_parameters();
  auto buffers = m.named_buffers();
  for (const auto& [k, v] : s) (params.contains(k) ? params[k] : buffers[k]).copy_(v);
}

}  // namespace

namespace {

// The state every rank must hold alike: the model's parameters and buffers and the trainer's own parameters.
std::vector<torch::Tensor> shared_state(ClassifierImpl& model, Trainer& trainer) {
  std::vector<torch::Tensor> out;
  for (auto& t : model.parameters()) out.push_back(t);
  for (auto& t : model.buffers()) out.push_back(t);
  for (auto& t : trainer.parameters()) out.push_back(t);
  return out;
}

// FNV-1a over the bytes of every tensor: equal on two ranks only when their states are bit for bit equal.
int64_t state_hash(const std::vector<torch::Tensor>& state) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& t : state) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    const auto* p = static_cast<const unsigned char*>(c.data_ptr());
    for (size_t i = 0, n = c.numel() * c.element_size(); i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  return static_cast<int64_t>(h);
}

// Why training stopped, named for the user (the setting to change) and for --resume (run_dir.h): a diverged run
// would diverge again, anything else (disk, memory, a lost rank) may go through on a second try.
struct Failure {
  std::string kind;  // "diverged", "out-of-memory" or "error" (a lost rank, a full disk, ...)
  std::string message;
};

Failure classify_failure(const std::exception& e, const ExperimentSpec& spec) {
  std::string what = e.what();
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) what = c->what_without_backtrace();
  what = what.substr(0, what.find('\n'));
  if (dynamic_cast<const DivergedError*>(&e)) return {"diverged", what};
  const bool oom = dynamic_cast<const std::bad_alloc*>(&e) || dynamic_cast<const OutOfMemory*>(&e) ||
                   is_out_of_memory(what);
  if (oom)
    return {"out-of-memory",
            fmt::format("out of memory during training ({}); lower train.batch_size (now {}) or "
                        "train.eval_batch_size (now {}), or make the model smaller",
                        what, spec.train.batch_size, spec.train.eval_batch_size)};
  if (what.find("overflow") != std::string::npos)
    return {"diverged", fmt::format("a value overflowed float32 during training ({}); the run diverged or a setting "
                                    "is too large: lower train.optimizer.lr (now {:g})",
                                    what, spec.train.optimizer.lr)};
  if (dynamic_cast<const Error*>(&e)) return {"error", what};
  return {"error", "training stopped: " + what};
}

}  // namespace

// Rank 0's resume state, sent to the other ranks as bytes: each of them gets a private copy in the temporary
// folder (removed with the ReceivedState), so hosts without a shared file system resume too. Rank 0 (and a
// one-process run) gets an empty path: it reads its own file.
namespace {
struct ReceivedState {
  std::string path;
  ReceivedState() = default;
  ReceivedState(ReceivedState&& o) noexcept : path(std::move(o.path)) { o.path.clear(); }
  ReceivedState(const ReceivedState&) = delete;
  ReceivedState& operator=(const ReceivedState&) = delete;
  ~ReceivedState() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

ReceivedState share_resume_state(Collective& team, const std::string& state_path) {
  ReceivedState r;
  if (team.world() == 1) return r;
  std::string bytes;
  if (team.rank() == 0) {
    std::ifstream in(state_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const int64_t n = team.sum(team.rank() == 0 ? static_cast<int64_t>(bytes.size()) : 0);
  // host: Gloo moves host tensors (NCCL's collective stages them through the GPU)
  auto buf = torch::empty({n}, torch::kUInt8);
  if (team.rank() == 0) std::memcpy(buf.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::vector<torch::Tensor> t{buf};
  team.broadcast(t, 0);
  if (team.rank() == 0) return r;
  r.path = (fs::temp_directory_path() / fmt::format("lrbench-resume-{}-rank{}.pt", ::getpid(), team.rank())).string();
  std::ofstream out(r.path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(t[0].data_ptr<uint8_t>()), static_cast<std::streamsize>(n));
  if (!out.flush())
    throw Error(fmt::format("rank {}: cannot write rank 0's resume state to {} (the temporary folder; set TMPDIR)",
                            team.rank(), r.path),
                1);
  return r;
}
}  // namespace

TrainResult train_run(const NodePtr& root, const std::string& out_dir, bool resume, Collective* team_in,
                      const std::string& tensorboard) {
  Collective& team = team_in ? *team_in : solo();
  const bool writer = team.rank() == 0;
  auto wall0 = std::chrono::steady_clock::now();
  double wall_before = 0;  // a resumed run's earlier processes (ResumeState::wall_seconds)
  auto wall = [&] { return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(); };
  const std::string started = now_iso();
  RunParts p = plan_run(root, 1.0 / std::max(1, team.local_world()));
  auto log = logger("train");
  const std::string ckpt = (fs::path(out_dir) / "checkpoint.pt").string();
  const std::string run_json = (fs::path(out_dir) / "run.json").string();
  const std::string state_path = (fs::path(out_dir) / kResumeFile).string();
  ResumeFrom from = ResumeFrom::kStart;
  // A run another process trains is reported as such before its files are judged. Every rank probes (the same
  // answer), then all wait for each other, so no probe overlaps rank 0's lock below.
  refuse_if_busy(out_dir, "train");
  team.barrier();
  if (resume) {
    // Rank 0's run directory decides for every rank: the others' hosts need not share its file system.
    if (writer) from = resume_point(out_dir, p.spec.hash);
    if (team.world() > 1) from = static_cast<ResumeFrom>(team.sum(writer ? static_cast<int64_t>(from) : 0));
    if (from == ResumeFrom::kFinished) {
      log->info("{}: this run (spec {}) has finished; nothing to resume", out_dir, p.spec.hash);
      if (writer) fs::remove(state_path);  // left behind by a kill between run.json's "finished" and its removal
      TrainResult done;
      done.run_dir = out_dir;
      if (writer) {
        auto j = nlohmann::json::parse(read_text(run_json));
        if (j.contains("final_test_acc") && j["final_test_acc"].is_number())
          done.final_test_acc = j["final_test_acc"].get<double>() / 100;
      }
      return done;
    }
    if (from == ResumeFrom::kStart && fs::exists(out_dir) && !fs::is_empty(out_dir))
      log->info("{}: the run (spec {}) stopped before its first resumable state; starting from the beginning",
                out_dir, p.spec.hash);
  }
  // Rank 0 alone checks and creates the run directory; the others learn whether it could (a refusal would
  // otherwise leave them waiting in the first collective).
  std::unique_ptr<RunLock> lock;  // one writer per run directory, for the life of this run
  try {
    if (writer && !resume) require_free_out_dir(out_dir, p.spec.hash);
    if (writer) try {  // before any data is read: an --out that cannot be created is a usage error
        fs::create_directories(out_dir);
      } catch (const fs::filesystem_error& e) {
        throw ConfigError(out_dir, fmt::format("--out: cannot create the run directory ({}); choose a writable path",
                                               e.code().message()));
      }
    if (writer) {
      lock = std::make_unique<RunLock>(out_dir, "train");
      // Checked again under the lock: a second train that passed the first check while this one started.
      if (!resume) require_free_out_dir(out_dir, p.spec.hash);
      else if (resume_point(out_dir, p.spec.hash) != from)
        throw RunBusyError(fmt::format("{}: the run changed while this process started (another lrbench process "
                                       "wrote it); run --resume again",
                                       out_dir));
      remove_stale_temp_files(out_dir);  // a killed process's half-written files: ours now, and useless
    }
  } catch (const Error&) {
    if (team.world() > 1) team.sum(1);
    throw;
  }
  if (team.world() > 1 && team.sum(0) > 0)
    throw ConfigError(out_dir, fmt::format("rank {} of {}: rank 0 refused the run directory (its message says why)",
                                           team.rank(), team.world()));
  materialize(p);
  if (team.world() > 1) {
    // Ranks on one host share its cores (unless threads is given); every rank's trainer does its share.
    // (A Slurm task's --cpus-per-task is already its own share: set_threads read SLURM_CPUS_PER_TASK.)
    if (p.spec.threads == "auto" && team.local_world() > 1 && !std::getenv("SLURM_CPUS_PER_TASK"))
      at::set_num_threads(std::max(1, at::get_num_threads() / team.local_world()));
    p.trainer->set_collective(team);
  }
  const auto& spec = p.spec;
  const bool best_val = spec.train.select == "best-val";
  auto device = pick_device(spec.device);

  // The config first: it names the run's spec, so a directory killed right after holds a run to resume.
  if (writer) write_text_atomic((fs::path(out_dir) / "config.resolved.yaml").string(),
                    fmt::format("# lrbench resolved config: spec_hash {} git {} (reproduce: lrbench train {} --out "
                                "DIR)\n# every setting in effect, the code's defaults and the model's presets "
                                "included\n",
                                spec.hash, LRB_GIT_SHA, (fs::path(out_dir) / "config.resolved.yaml").string()) +
                        to_yaml(spec.root));
  if (writer) log_to_file((fs::path(out_dir) / "log.txt").string(), /*append=*/from == ResumeFrom::kState);
  log->info("run {} | spec {} | git {} | LibTorch {} | device {} | threads {} | seed {}", spec.name, spec.hash,
            LRB_GIT_SHA, torch_version(), device.str(), at::get_num_threads(), spec.seed);
  if (team.world() > 1) log->info("ranks {} (this is rank 0; {} process group)", team.world(), team.backend());
  log->info("dataset {} | model {} | trainer {}", p.dataset->label(), p.model->key(), p.trainer->key());
  for (const auto& [key, source] : p.resolved_from)
    if (auto n = root->get("trainer")->get(key.substr(key.find('.') + 1))) {
      const auto text = to_yaml(n);
      log->info("{} = {} (from {})", key, text.substr(0, text.find_last_not_of('\n') + 1), source);
    }

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
  // run.json is rewritten with every checkpoint, so the checkpoint on disk always has its sha256 recorded
  // (also when training later stops); tools/table.sh counts only status "finished" as trained.
  nlohmann::json info = {{"experiment", spec.name},
                         {"spec_hash", spec.hash},
                         {"config_schema", 2},  // config.resolved.yaml is complete (defaults, presets)
                         {"seed", spec.seed},
                         {"git_commit", LRB_GIT_SHA},
                         {"torch_version", torch_version()},
                         {"device", device.str()},
                         {"threads", at::get_num_threads()},
                         {"dataset", p.dataset->label()},
                         {"model", p.model->key()},
                         {"trainer", p.trainer->key()},
                         {"started", started},
                         {"status", "running"}};
  if (team.world() > 1) info["ranks"] = team.world();
  if (!p.resolved_from.empty()) info["resolved_from"] = p.resolved_from;
  int64_t saved_epoch = 0;
  FitHooks hooks;
  std::vector<std::pair<std::string, torch::Tensor>> best;  // best-val: the selected epoch's state
  EpochRecord chosen;
  FitPosition start;
  if (from == ResumeFrom::kState) {
    CheckpointExtras x;
    // The other ranks load rank 0's state as it sends it (a private copy), not the file at their own --out.
    const ReceivedState received = share_resume_state(team, state_path);
    const std::string& load_path = received.path.empty() ? state_path : received.path;
    auto m = load_checkpoint(load_path, *p.model, opt.get(), p.trainer.get(), p.model->key(),
                             to_yaml(spec.model.node()), "", &x);
    if (m.spec_hash != spec.hash)
      throw CheckpointError(fmt::format("{}: a state of spec {}, the run is spec {} (the directory mixes two runs); "
                                        "delete it to start the run from the beginning",
                                        state_path, m.spec_hash, spec.hash));
    ResumeState r = decode_resume_state(x, state_path);
    // The kind of device, not its index: the ranks of a multi-GPU run each use their own GPU (cuda:LOCAL_RANK),
    // and a CUDA generator's state fits any GPU.
    if (c10::Device(r.device).type() != device.type())
      throw ConfigError(state_path, fmt::format("--resume: the run trained on {} and this process would continue on {}, "
                                                "which draws other random numbers; set device={} to resume it",
                                                r.device, device.str(), r.device));
    start = r.position;
    wall_before = r.wall_seconds;
    result.epochs = r.epochs;
    saved_epoch = r.saved_epoch;
    chosen = r.chosen;
    best = r.best;
    if (writer && fs::exists(run_json))  // keep what the interrupted process recorded: its start and last checkpoint
      if (auto j = nlohmann::json::parse(read_text(run_json), nullptr, false); j.is_object())
        for (const char* key : {"started", "checkpoint"})
          if (j.contains(key)) info[key] = j[key];
    log->info("resuming from {}: epoch {} step {}", state_path, start.epoch + 1, start.step);
  }
  // The state is written after the epoch's checkpoint and run.json: a kill in between redoes the epoch's
  // end, which writes the same bytes again.
  if (team.world() > 1) {
    // Every rank starts from rank 0's state (a resumed run: the state rank 0 sent, share_resume_state).
    auto state = shared_state(*p.model, *p.trainer);
    torch::NoGradGuard no_grad;
    team.broadcast(state, 0);
    int every = 50;
    if (const char* e = std::getenv("LRBENCH_DIST_CHECK_EVERY")) every = std::max(1, std::atoi(e));
    hooks.after_step = [&, every](int64_t epoch, int64_t step, int64_t) {
      // Buffers (BatchNorm running statistics) follow rank 0's, as DDP's broadcast_buffers does: ranks that see
      // other rows of a batch (bp) or other population members (es) would otherwise drift apart.
      std::vector<torch::Tensor> buffers;
      for (auto& b : p.model->buffers()) buffers.push_back(b);
      if (!buffers.empty()) team.broadcast(buffers, 0);
      if (step % every != 0) return;
      // host: Gloo all-reduces host tensors (trainers/distributed.cpp)
      auto mine = torch::full({1}, state_hash(shared_state(*p.model, *p.trainer)), torch::kLong);
      std::vector<torch::Tensor> theirs{mine.clone()};
      team.broadcast(theirs, 0);
      // Every rank learns how many differ, so all of them stop (not only the one that differs).
      if (const auto n = team.sum(mine.equal(theirs[0]) ? 0 : 1))
        throw TrainingError(fmt::format("rank {} of {}: after epoch {} step {} the parameters of {} rank(s) differ "
                                        "from rank 0's (this rank: {}); the ranks run different builds, libraries "
                                        "or devices: run every rank from one build on one kind of machine",
                                        team.rank(), team.world(), epoch, step, n,
                                        mine.equal(theirs[0]) ? "same" : "differs"));
    };
  }
  // Matched-accuracy snapshots (experiments/snapshots.h): the parameters and their clean accuracy every
  // train.snapshot_every steps, counted across epochs. Evaluation in eval mode draws no random number, so a run
  // with snapshots trains exactly as one without.
  if (spec.train.snapshot_every > 0 && writer) {
    auto split = std::make_shared<SelectionSplit>(selection_split(*p.dataset, spec.train.snapshot_examples));
    hooks.after_step = [&, before = hooks.after_step, split](int64_t epoch, int64_t step, int64_t steps) {
      if (before) before(epoch, step, steps);
      const int64_t global = (epoch - 1) * steps + step;
      if (global % spec.train.snapshot_every != 0) return;
      Snapshot s;
      s.step = global, s.epoch = epoch, s.split = split->name, s.examples = split->batch.size();
      s.file = (fs::path(out_dir) / "snapshots" / fmt::format("step-{:07d}.pt", global)).string();
      fs::create_directories(fs::path(s.file).parent_path());
      s.accuracy = 100 * evaluate_accuracy(*p.model, split->batch, spec.train.eval_batch_size, device);
      // A resumed run redoes the steps after its last state: its record goes first, so a kill between the two
      // writes leaves parameters without a record (not listed), never a record naming other parameters.
      std::error_code gone;
      fs::remove(fs::path(s.file).replace_extension(".json"), gone);
      CheckpointMeta m = meta;
      m.epoch = epoch;
      m.test_acc = s.accuracy;
      s.sha256 = save_checkpoint(s.file, *p.model, nullptr, nullptr, m);
      write_snapshot_record(s);
    };
  }
  // Preemption (Slurm's SIGTERM/SIGUSR1) or Ctrl-C: stop at the next step with the state saved. All ranks stop
  // at the same step: the flag is summed over them.
  StopListener listener;
  hooks.stop_signal = [&]() -> int {
    int sig = stop_requested();
    if (team.world() > 1 && team.sum(sig) > 0 && sig == 0) sig = SIGTERM;  // another rank's signal
    return sig;
  };
  hooks.on_position = [&](const FitPosition& pos) {
    if (!writer) return;
    ResumeState r{pos, result.epochs, saved_epoch, device.str(), wall(), chosen, best};
    meta.epoch = pos.epoch;
    auto x = encode_resume_state(r);
    save_checkpoint(state_path, *p.model, opt.get(), p.trainer.get(), meta, &x);
  };
  // TensorBoard: DIR/<the run directory's path> (relative, so two sweeps' 00-seed=0 stay two runs). A side log:
  // a writer that cannot start is a warning, not a stop (and never leaves other ranks waiting).
  std::unique_ptr<TensorBoardWriter> tb;
  bool tb_started = false;
  if (writer && !tensorboard.empty()) try {
      auto rel = fs::path(out_dir).lexically_normal();
      if (rel.is_absolute()) rel = rel.relative_path();
      tb = std::make_unique<TensorBoardWriter>((fs::path(tensorboard) / rel).string());
      log->info("TensorBoard events -> {}", tb->path());
    } catch (const std::exception& e) {
      log->warn("no TensorBoard events: {}", e.what());
    }
  // The first point this process writes starts a session there: TensorBoard drops later points of earlier files.
  auto tb_start = [&](int64_t first_step) {
    if (tb && !tb_started) tb->session_start(first_step), tb_started = true;
  };
  hooks.on_epoch = [&](const EpochStats& e) {
    result.epochs.push_back({static_cast<int>(e.epoch), e.loss, e.train_acc, e.test_acc, e.seconds, e.val_acc});
    if (!writer) return;
    if (tb) {
      const int64_t global = e.epoch * e.steps;
      tb_start(global);
      tb->scalar("epoch/test_accuracy", global, static_cast<float>(100 * e.test_acc));
      tb->scalar("epoch/train_accuracy", global, static_cast<float>(100 * e.train_acc));
      tb->scalar("epoch/loss", global, static_cast<float>(e.loss));
      if (e.val_acc >= 0) tb->scalar("epoch/val_accuracy", global, static_cast<float>(100 * e.val_acc));
      tb->flush();
    }
    if (best_val && (best.empty() || e.val_acc > chosen.val_acc)) best = snapshot(*p.model), chosen = result.epochs.back();
    write_metrics((fs::path(out_dir) / "metrics.csv").string(), result.epochs);
    if (e.epoch % spec.train.checkpoint_every == 0 || e.epoch == spec.train.epochs) {
      meta.epoch = e.epoch;
      meta.test_acc = e.test_acc;
      auto sha = save_checkpoint(ckpt, *p.model, opt.get(), p.trainer.get(), meta);
      saved_epoch = e.epoch;
      info["checkpoint"] = {{"file", "checkpoint.pt"}, {"sha256", sha}, {"epoch", e.epoch}};
      write_text_atomic(run_json, info.dump(2) + "\n");
    }
  };
  // steps.csv: a row every train.steps_every steps. A resumed run drops the rows past its resume point (those
  // steps are trained again and write their rows again).
  std::ofstream steps_out;
  if (writer && spec.train.steps_every > 0) {
    const auto path = (fs::path(out_dir) / "steps.csv").string();
    std::string kept = "epoch,step,steps,loss,train_acc,seconds_per_step,examples_per_second,lr\n";
    if (from == ResumeFrom::kState && fs::exists(path)) {
      std::istringstream in(read_text(path));
      std::string line;
      std::getline(in, line);  // the header
      while (std::getline(in, line)) {
        long long e = 0, st = 0;
        if (std::sscanf(line.c_str(), "%lld,%lld", &e, &st) != 2) continue;
        if (e <= start.epoch || (e == start.epoch + 1 && st <= start.step)) kept += line + "\n";
      }
    }
    write_text_atomic(path, kept);
    steps_out.open(path, std::ios::app);
  }
  hooks.on_steps = [&](const StepWindow& w) {
    if (tb) {
      const int64_t global = (w.epoch - 1) * w.steps_per_epoch + w.step;
      tb_start(global - w.steps + 1);
      tb->scalar("train/loss", global, static_cast<float>(w.loss));
      tb->scalar("train/accuracy", global, static_cast<float>(100 * w.train_acc));
      tb->scalar("train/lr", global, static_cast<float>(w.lr));
      tb->scalar("train/examples_per_second", global, static_cast<float>(w.examples_per_second));
      tb->flush();
    }
    if (!steps_out.is_open()) return;
    steps_out << fmt::format("{},{},{},{},{},{},{},{}\n", w.epoch, w.step, w.steps, csv_number(w.loss), csv_number(100 * w.train_acc, 6),
                             csv_number(w.seconds_per_step, 4), csv_number(w.examples_per_second, 4), csv_number(w.lr))
              << std::flush;
  };
  try {
    fit(*p.model, *p.trainer, *opt, *p.dataset, spec.train, device, spec.seed, start, hooks);
  } catch (const Interrupted&) {
    throw;  // stopped on request with its state saved: still resumable, so run.json stays as it was
  } catch (const std::exception& e) {
    // Only fit() and save_checkpoint() know what went wrong; only this loop knows what is on disk.
    const Failure f = classify_failure(e, spec);
    std::string kept = saved_epoch > 0
                           ? fmt::format("the checkpoint of epoch {} (the last good one) is kept in {}", saved_epoch,
                                         out_dir)
                           : "no checkpoint was written (the run stopped before its first one)";
    if (writer) {
      info["status"] = "failed";
      info["failure"] = f.kind;
      info["error"] = f.message;
      info["finished"] = now_iso();
      write_text_atomic(run_json, info.dump(2) + "\n");
    }
    if (dynamic_cast<const ConfigError*>(&e)) throw;  // a setting found wrong at the first step keeps its exit 2
    throw TrainingError(fmt::format("{}; {}", f.message, kept));
  }
  result.final_test_acc = result.epochs.empty() ? 0 : result.epochs.back().test_acc;
  if (!writer) return result;
  if (best_val && !best.empty()) {
    // The checkpoint holds the selected epoch's parameters (the optimizer state stays the last epoch's).
    restore(*p.model, best);
    meta.epoch = chosen.epoch;
    meta.test_acc = chosen.test_acc;
    auto sha = save_checkpoint(ckpt, *p.model, opt.get(), p.trainer.get(), meta);
    info["checkpoint"] = {{"file", "checkpoint.pt"}, {"sha256", sha}, {"epoch", chosen.epoch}};
    info["selected"] = {{"rule", "best-val"}, {"epoch", chosen.epoch}, {"val_acc", 100 * chosen.val_acc},
                        {"test_acc", 100 * chosen.test_acc}};
    result.final_test_acc = chosen.test_acc;
    log->info("selected epoch {} (best validation accuracy {:.2f}%): test accuracy {:.2f}%", chosen.epoch,
              100 * chosen.val_acc, 100 * chosen.test_acc);
  }

  if (team.world() > 1) {  // this process's part of the run (a resumed run: since it resumed)
    double train_seconds = 0;
    for (const auto& e : result.epochs) train_seconds += e.seconds;
    info["collective_seconds"] = team.seconds();
    log->info("rank 0 spent {:.2f} s in collectives ({:.2f}% of {:.1f} s of training)", team.seconds(),
              train_seconds > 0 ? 100 * team.seconds() / train_seconds : 0.0, train_seconds);
  }
  const double total = wall();
  info["status"] = "finished";
  info["finished"] = now_iso();
  info["seconds"] = total;
  info["final_test_acc"] = 100 * result.final_test_acc;
  write_text_atomic(run_json, info.dump(2) + "\n");
  fs::remove(state_path);  // a finished run needs no resume state (run.json says it finished)
  log->info("done in {:.1f} s: test accuracy {:.2f}% -> {}", total, 100 * result.final_test_acc, out_dir);
  return result;
}

}  // namespace lrb
