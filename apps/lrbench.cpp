// lrbench: the single command-line entry point. Argument parsing only; the work lives in the libraries.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "core/compose.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/plugin.h"
#include "lrb_git_sha.h"
#include "lrb_version.h"
#include "core/registry.h"
#include "core/runtime.h"
#include "experiments/evaluator.h"
#include "core/fs.h"
#include "core/memory_meter.h"
#include "experiments/train_run.h"
#include "trainers/distributed.h"
#include "apps/verbs.h"
#include "experiments/sweep.h"
#include "reports/compare.h"
#include "reports/report.h"

namespace fs = std::filesystem;
using namespace lrb;

namespace {

// Percentage points of accuracy: a finite number from 0 to 100. CLI11's NonNegativeNumber lets "nan" through
// and names a 300-digit upper bound in its message.
const CLI::Validator kPercentagePoints(
    [](std::string& s) -> std::string {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 100)
        return "expected percentage points from 0 to 100, got '" + s + "'";
      return {};
    },
    "PP");

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// A key typed twice on the command line is a mistake, not "the last one wins" (override lists built by
// programs, e.g. tools/table.sh's profile layers, resolve repeats before they reach lrbench).
void reject_repeats(const std::vector<std::string>& overrides) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < overrides.size(); ++i) {
    auto key = overrides[i].substr(0, overrides[i].find('='));
    key.erase(0, key.find_first_not_of(" \t+~"));  // +key, ++key and ~key name the same key
    key.erase(key.find_last_not_of(" \t") + 1);
    if (auto [it, fresh] = seen.emplace(key, i + 1); !fresh)
      throw ConfigError(fmt::format("<command line>:1:{}", i + 1),
                        fmt::format("'{}' is overridden twice (arguments {} and {}); keep one", key, it->second, i + 1));
  }
}

NodePtr load_config(const std::string& file, const std::vector<std::string>& overrides) {
  reject_repeats(overrides);
  if (!fs::exists(file))
    throw ConfigError(file, "experiment file not found (see experiments/*.yaml, e.g. experiments/demo.yaml)");
  return compose(file, overrides);
}

// The experiment's name becomes a folder of the default run directory: a plain name only (checked by `check` and
// `train`, not when an existing run's config is read back).
void require_plain_experiment_name(const NodePtr& root) {
  if (auto n = root->get("name"); n && n->kind == ConfigNode::Kind::kScalar)
    require_plain_name(n->scalar, n->where(), "the experiment's name");
}

std::string default_out_dir(const NodePtr& root) {
  std::string name = "experiment", model = "model", trainer = "trainer";
  int64_t seed = 0;
  if (auto n = root->get("name"); n && n->kind == ConfigNode::Kind::kScalar) name = n->scalar;
  if (auto m = root->get("model"); m && m->get("name")) model = m->get("name")->scalar;
  if (auto t = root->get("trainer"); t && t->get("name")) trainer = t->get("name")->scalar;
  if (auto s = root->get("seed"); s && s->kind == ConfigNode::Kind::kScalar) seed = std::atoll(s->scalar.c_str());
  return fmt::format("runs/{}/{}-{}-s{}", name, model, trainer, seed);
}

}  // namespace

// An allocation that failed outside training (training names its own settings, experiments/train_run.cpp):
// said as out of memory, with the settings that size the batches of this verb.
static std::string out_of_memory(const std::string& what, bool eval) {
  return fmt::format("out of memory ({}); lower {}", what,
                     eval ? "eval.batch_size (default 500) or eval.n_examples"
                          : "train.batch_size or train.eval_batch_size, or make the model smaller");
}

int main(int argc, char** argv) {
  lrb::reexec_with_passive_threads(argv);  // as lrbench runs (core/runtime.h)
  CLI::App app{"lrbench: train networks with BP, ES and likelihood-ratio (LR) gradients, and measure robustness"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("lrbench {} (commit {}); plugin ABI: {}", LRB_VERSION, LRB_GIT_SHA,
                                                plugin_abi()));
  std::string log_level = env_or("LRBENCH_LOG_LEVEL", "info");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (env LRBENCH_LOG_LEVEL)");
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "load an out-of-tree plugin (.so built against the installed lrbench package) before the verb; "
                 "repeatable; also env LRBENCH_PLUGINS=a.so:b.so")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::string config_file, out, run_dir, list_kind = "all";
  std::vector<std::string> overrides;

  auto* train = app.add_subcommand("train", "train one experiment: lrbench train EXPERIMENT.yaml [key=value ...]");
  train->add_option("experiment", config_file, "experiment YAML (composes experiments/conf/<group>/<option>.yaml)")
      ->required();
  train->add_option("overrides", overrides, "key=value overrides, e.g. train.epochs=3 or trainer=lr-wl");
  train->add_option("--out", out, "run directory (default runs/<name>/<model>-<trainer>-s<seed>; env LRBENCH_OUT)");
  int nproc = 1;
  train->add_option("--nproc", nproc,
                    "run on N local processes (LR/ES: each does a share of every layer's copies or of the "
                    "population; BP: of the batch's rows); under torchrun's or srun's environment the ranks are "
                    "theirs instead")
      ->check(CLI::Range(1, 1024));
  std::string tensorboard;
  train->add_option("--tensorboard", tensorboard,
                    "also write TensorBoard event files (loss, accuracy, lr per train.steps_every steps; test accuracy "
                    "per epoch) into DIR/<the run directory's path>/ (tensorboard --logdir DIR)");
  bool resume = false;
  train->add_flag("--resume", resume,
                  "continue the run of this config in --out from its last resumable state (resume.pt); a run killed "
                  "before its first one starts over, a finished run is left as it is");

  auto* check = app.add_subcommand("check", "compose and validate an experiment without running it");
  check->add_option("experiment", config_file)->required();
  check->add_option("overrides", overrides);

  auto* eval = app.add_subcommand(
      "eval", "evaluate a run: lrbench eval RUN_DIR [--suite table1 | --threat fgsm] [eval.k=v threat.k=v ...]");
  EvalRequest ereq;
  eval->add_option("run_dir", ereq.run_dir, "a directory written by lrbench train")->required();
  eval->add_option("overrides", ereq.overrides, "eval.n_examples=N, eval.batch_size=B, eval.seed=S, threat.eps=...");
  eval->add_option("--suite", ereq.suite, "suite name (experiments/suites/NAME.yaml) or path");
  eval->add_option("--source", ereq.source_run,
                   "transfer mode: craft every attack on this run's model (same dataset), score RUN_DIR on it "
                   "(default output RUN_DIR/eval/<suite|threat>.transfer.csv)");
  eval->add_option("--match", ereq.match_run,
                   "matched accuracy: evaluate RUN_DIR's snapshot (train.snapshot_every) whose clean accuracy is "
                   "nearest this run's, within 2 pp (output RUN_DIR/eval/<suite|threat>.matched-<trainer>.csv and "
                   ".json)");
  eval->add_option("--threat", ereq.threat, "one attack or corruption (lrbench list attacks|corruptions)");
  eval->add_option("--out", ereq.out_csv, "CSV path (default RUN_DIR/eval/<suite|threat|clean>.csv)");
  eval->add_option("--examples", ereq.examples_jsonl,
                   "text attacks: write every attacked example (words before/after, changed positions, queries) "
                   "as JSON lines to this file");
  int64_t show = 0;
  eval->add_option("--show", show, "print the first N attacked examples with the substituted words marked "
                                   "(default file RUN_DIR/eval/<suite|threat>.examples.jsonl)")
      ->check(CLI::NonNegativeNumber);

  auto* report = app.add_subcommand("report", "paper-shaped tables from eval CSVs: lrbench report table1 [RUNS_DIR]");
  std::string report_name, report_runs, report_out = "results";
  std::optional<double> wall_seconds;
  report->add_option("name", report_name, "report definition reports/NAME.yaml (table1, ...)")->required();
  report->add_option("runs_dir", report_runs, "folder of run directories (default runs/NAME)");
  report->add_option("--out-dir", report_out, "where NAME.csv, NAME.md (and plots) go (default results)");
  report->add_option("--wall-seconds", wall_seconds, "total wall time to print in the footer");
  ReportOptions report_opt;
  report->add_flag("--html", report_opt.html,
                   "also write OUT_DIR/NAME.html: one self-contained page with the table beside the paper's, "
                   "training curves, sweep plots and every run's provenance");
  std::optional<double> mark_paper;
  report->add_option("--mark-paper", mark_paper,
                     "in the HTML page, also mark cells further than this many percentage points from the paper "
                     "(default: --check-paper's value, else no such mark; cells whose robustness against BP is the "
                     "reverse of the paper's are always marked)")
      ->check(kPercentagePoints);
  ReportChecks checks;
  report->add_option("--check", checks.files,
                     "compare the cells with expected values and exit 1 on any outside its tolerance: "
                     "reports/expected/regression.csv (per-cell tolerances) or a report CSV (with --tolerance); "
                     "repeatable")
      ->check(CLI::ExistingFile);
  report->add_option("--tolerance", checks.tolerance,
                     "percentage points for a report-format --check file (widened to 2 x its std over seeds)")
      ->check(kPercentagePoints);
  report->add_option("--check-paper", checks.paper_tolerance,
                     "also compare with the paper's value of each cell, allowing this many percentage points")
      ->check(kPercentagePoints);
  report->add_option("--paper-metrics", checks.paper_metrics,
                     "compare only these columns with the paper, e.g. Ori (comma-separated; default all)")
      ->delimiter(',');
  report->add_option("--update-expected", checks.update_expected,
                     "rewrite NAME's rows of this regression file from these runs (seed 0's value, band = "
                     "seed-to-seed spread; needs >= 2 seeds; tools/update_expected.sh calls it)");

  std::string cells_table, cells_profile = "quick";
  int cells_seeds = 1;
  auto* cells = app.add_subcommand("cells", "list a paper table's cells with their stable index (for --cell I of "
                                            "tools/table.sh and Slurm job arrays): lrbench cells table1 --profile paper");
  cells->add_option("table", cells_table, "table1 | table2 | table3 | table4")->required();
  cells->add_option("--profile", cells_profile, "a profile name (experiments/<table>/<name>.txt) or file (default quick)");
  cells->add_option("--seeds", cells_seeds, "seeds per cell, as make tableN SEEDS=N (default 1)")->check(CLI::Range(1, 1000));

  SweepRequest sweep_req;
  auto* sweep = app.add_subcommand(
      "sweep", "Hydra-style multirun: lrbench sweep EXPERIMENT.yaml trainer=bp,lr-wl seed=range(0,3) [--jobs N]");
  sweep->add_option("experiment", sweep_req.config, "experiment YAML")->required();
  sweep->add_option("overrides", sweep_req.args,
                    "key=value overrides; key=a,b,c, key=range(start,stop[,step]) or key=choice(a,b) sweep (the grid "
                    "is their product)");
  sweep->add_option("--out", sweep_req.out, "sweep folder: one run directory per cell, sweep.csv, summary.md "
                                            "(default runs/<name>/sweep)");
  sweep->add_option("--jobs", sweep_req.jobs, "cells trained at once, each with cores/N threads (default 1)")
      ->check(CLI::Range(1, 256));
  sweep->add_option("--suite", sweep_req.suite, "also evaluate every cell with this suite (lrbench eval --suite)");
  int sweep_cell = -1;
  sweep->add_option("--cell", sweep_cell, "run only cell I (a Slurm array task: --cell $SLURM_ARRAY_TASK_ID)")
      ->check(CLI::Range(0, 9999));
  sweep->add_flag("--list", sweep_req.list, "print the cells (index, folder, overrides) and exit");
  sweep->add_option("--tensorboard", sweep_req.tensorboard,
                    "every cell also writes TensorBoard event files under DIR (lrbench train --tensorboard DIR)");

  CompareOptions compare_opt;
  auto* compare = app.add_subcommand("compare", "runs side by side: lrbench compare RUN RUN... [--suite NAME] [--out DIR]");
  compare->add_option("runs", compare_opt.runs, "run directories (two or more)")->required();
  compare->add_option("--suite", compare_opt.suite, "compare eval/<suite>.csv of each run (default: every eval CSV)");
  compare->add_option("--out", compare_opt.out_dir, "also write compare.md and compare.html here");

  auto* list = app.add_subcommand("list", "list registered plugins: trainers, models, datasets, attacks, corruptions");
  list->add_option("kind", list_kind, "trainers|models|datasets|attacks|corruptions (default: all)");

  auto* data = app.add_subcommand("data", "dataset utilities");
  data->require_subcommand(1);
  auto* verify = data->add_subcommand("verify", "check every dataset file present under the data root");
  std::string data_root;
  verify->add_option("--data-root", data_root, "data root (default $LRBENCH_DATA)");

  auto* gradcheck = app.add_subcommand(
      "gradcheck", "compare an estimator's per-layer gradient with exact BP: lrbench gradcheck EXPERIMENT.yaml");
  gradcheck->add_option("experiment", config_file)->required();
  gradcheck->add_option("overrides", overrides);
  gradcheck->add_option("--out", out, "CSV path (default runs/<name>/gradcheck.csv)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version exit 0; every other parse error is a usage error (README: exit 2).
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    const auto world = *train ? world_from_env() : std::nullopt;
    // Ranks other than 0 say only what goes wrong: rank 0 speaks for the run.
    init_logging(world && world->rank > 0 && (log_level == "info" || log_level == "debug" || log_level == "trace")
                     ? "warn"
                     : log_level);
    load_plugins(plugins, env_or("LRBENCH_PLUGINS", ""));
    if (*train) {
      if (train->count("--out") && out.empty())
        throw ConfigError("--out", "empty path (give a run directory, or drop --out for the default)");
      auto root = load_config(config_file, overrides);
      require_plain_experiment_name(root);
      if (out.empty()) out = env_or("LRBENCH_OUT", default_out_dir(root));
      require_writable_output(out, "--out", OutputKind::kDirectory);
      if (nproc > 1 && !world) {
        plan_run(root, 1.0 / nproc);  // a config error is reported once, before any rank starts
        return launch_local(nproc, argv);
      }
      std::unique_ptr<Collective> team;
      if (world) {
        // The run's device picks the process group (Gloo on the CPU, NCCL on GPUs).
        std::string device = "auto";
        Config(root, "").read("device", device);
        team = join_world(*world, dist_timeout(), pick_device(device));
      }
      if (!tensorboard.empty()) require_writable_output(tensorboard, "--tensorboard", OutputKind::kDirectory);
      train_run(root, out, resume, team.get(), tensorboard);
    } else if (*check) {
      auto root = load_config(config_file, overrides);
      require_plain_experiment_name(root);
      return check_experiment(root, std::cout);
    } else if (*eval) {
      if (!ereq.suite.empty() && !ereq.threat.empty())
        throw ConfigError("lrbench eval", "give --suite or --threat, not both");
      reject_repeats(ereq.overrides);
      if (eval->count("--examples") && ereq.examples_jsonl.empty())
        throw ConfigError("--examples", "empty path (give a .jsonl file, or drop --examples)");
      if (eval->count("--out")) require_writable_output(ereq.out_csv, "--out", OutputKind::kFile);
      else if (fs::is_directory(ereq.run_dir))
        require_writable_output((fs::path(ereq.run_dir) / "eval").string(), "eval (the default --out, RUN_DIR/eval/)",
                                OutputKind::kDirectory);
      if (!ereq.examples_jsonl.empty()) require_writable_output(ereq.examples_jsonl, "--examples", OutputKind::kFile);
      if (show > 0 && ereq.examples_jsonl.empty()) {
        const auto stem = !ereq.threat.empty() ? ereq.threat : fs::path(ereq.suite).stem().string();
        ereq.examples_jsonl = (fs::path(ereq.run_dir) / "eval" / (stem + ".examples.jsonl")).string();
      }
      auto table = evaluate(ereq);
      std::cout << format_accuracy_table(table);
      if (show > 0) std::cout << "\n" << format_examples(ereq.examples_jsonl, show);
    } else if (*report) {
      if (report_runs.empty()) report_runs = "runs/" + report_name;
      if (!report->count("--check") && report->count("--tolerance"))
        throw ConfigError("report: --tolerance applies to a --check file; give --check results/NAME.csv");
      if (!report->count("--check-paper") && report->count("--paper-metrics"))
        throw ConfigError("report: --paper-metrics applies to --check-paper; give --check-paper PP");
      if (report->count("--mark-paper") && !report_opt.html)
        throw ConfigError("report: --mark-paper applies to the HTML page; add --html");
      require_writable_output(report_out, "--out-dir", OutputKind::kDirectory);
      report_opt.runs_dir = report_runs, report_opt.out_dir = report_out, report_opt.wall_seconds = wall_seconds;
      report_opt.html_paper_tolerance = mark_paper ? *mark_paper : checks.paper_tolerance.value_or(0.0);
      return run_report(report_name, report_opt, std::cout, checks);
    } else if (*cells) {
      // One parser of profiles: tools/table.sh's (it runs the cells), from the source tree this binary was built in.
      const std::string src = LRB_SOURCE_DIR, script = src + "/tools/table.sh";
      if (!fs::exists(script))
        throw ConfigError("lrbench cells", fmt::format("{} not found: cells are listed by the source tree's "
                                                       "tools/table.sh (run from a build of a checkout)", script));
      if (chdir(src.c_str()) != 0) throw ConfigError("lrbench cells", "cannot enter " + src);
      setenv("PROFILE", cells_profile.c_str(), 1);
      setenv("SEEDS", std::to_string(cells_seeds).c_str(), 1);
      std::fflush(stdout);
      const std::string self = fs::read_symlink("/proc/self/exe").string();
      execl("/bin/bash", "bash", script.c_str(), cells_table.c_str(), self.c_str(), "--cells", static_cast<char*>(nullptr));
      throw ConfigError("lrbench cells", "cannot run /bin/bash");
    } else if (*sweep) {
      if (sweep->count("--cell")) sweep_req.cell = sweep_cell;
      reject_repeats(sweep_req.args);
      sweep_req.lrbench = {fs::read_symlink("/proc/self/exe").string(), "--log-level", log_level};
      for (const auto& p : plugins) sweep_req.lrbench.insert(sweep_req.lrbench.end(), {"--plugin", p});
      return run_sweep(sweep_req, std::cout);
    } else if (*compare) {
      return run_compare(compare_opt, std::cout);
    } else if (*list) {
      return list_plugins(list_kind, std::cout);
    } else if (*verify) {
      return verify_data(data_root, std::cout);
    } else if (*gradcheck) {
      if (gradcheck->count("--out")) require_writable_output(out, "--out", OutputKind::kFile);
      auto root = load_config(config_file, overrides);
      return run_gradcheck(root, out, std::cout);
    }
  } catch (const lrb::Error& e) {
    std::cerr << "lrbench: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    msg = msg.substr(0, msg.find('\n'));
    std::cerr << "lrbench: error: " << (is_out_of_memory(msg) ? out_of_memory(msg, eval->parsed()) : msg) << "\n";
    return 1;
  } catch (const std::bad_alloc& e) {
    std::cerr << "lrbench: error: " << out_of_memory(e.what(), eval->parsed()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lrbench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
