#include "experiments/sweep.h"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "core/compose.h"
#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/stop_request.h"
#include "experiments/run_dir.h"
#include "experiments/run_lock.h"
#include "experiments/suite.h"
#include "experiments/train_run.h"

extern char** environ;

namespace lrb {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCells = 10000;

// Splits at `sep` outside brackets, braces, parentheses and quotes.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char ch : s) {
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '[' || ch == '{' || ch == '(') {
      ++depth;
    } else if ((ch == ']' || ch == '}' || ch == ')') && depth > 0) {
      --depth;
    } else if (ch == sep && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += ch;
  }
  out.push_back(cur);
  return out;
}

// Hydra's range(start, stop[, step]): stop excluded; integers stay integers.
std::vector<std::string> range_values(const std::string& inner, const std::string& where) {
  auto parts = split_top(inner, ',');
  if (parts.size() == 1) parts.insert(parts.begin(), "0");  // range(stop), as Python's
  if (parts.size() > 3)
    throw ConfigError(where, fmt::format("range({}): give range(stop), range(start, stop) or range(start, stop, step)", inner));
  std::vector<double> v;
  bool integers = true;
  for (auto& p : parts) {
    p = trim_blanks(p);
    char* end = nullptr;
    double x = std::strtod(p.c_str(), &end);
    if (p.empty() || *end != '\0' || !std::isfinite(x))
      throw ConfigError(where, fmt::format("range({}): '{}' is not a number", inner, p));
    integers = integers && p.find_first_of(".eE") == std::string::npos;
    v.push_back(x);
  }
  const double step = v.size() == 3 ? v[2] : 1;
  if (step == 0) throw ConfigError(where, fmt::format("range({}): the step is 0", inner));
  std::vector<std::string> out;
  for (size_t i = 0;; ++i) {
    const double x = v[0] + static_cast<double>(i) * step;
    if (step > 0 ? x >= v[1] - 1e-12 * std::fabs(step) : x <= v[1] + 1e-12 * std::fabs(step)) break;
    if (out.size() >= kMaxCells) throw ConfigError(where, fmt::format("range({}): more than {} values", inner, kMaxCells));
    out.push_back(integers ? fmt::format("{}", static_cast<int64_t>(std::llround(x))) : fmt::format("{}", x));
  }
  if (out.empty()) throw ConfigError(where, fmt::format("range({}) has no values", inner));
  return out;
}

// The values one argument sweeps over (one, when it does not sweep).
std::vector<std::string> values_of(const std::string& arg, int position, bool& swept) {
  swept = false;
  const auto where = fmt::format("<command line>:1:{}", position);
  auto eq = arg.find('=');
  if (arg.rfind('~', 0) == 0 || eq == std::string::npos) return {arg};  // deletions and errors: compose says
  const std::string key = arg.substr(0, eq), value = trim_blanks(arg.substr(eq + 1));
  std::vector<std::string> items;
  static const std::regex range_re(R"(^range\((.*)\)$)"), choice_re(R"(^choice\((.*)\)$)");
  std::smatch m;
  if (std::regex_match(value, m, range_re)) {
    items = range_values(m[1], where);
    swept = true;
  } else if (std::regex_match(value, m, choice_re)) {
    items = split_top(m[1], ',');
    swept = true;
  } else {
    items = split_top(value, ',');
    swept = items.size() > 1;
  }
  if (!swept) return {arg};
  std::vector<std::string> out;
  for (auto& it : items) {
    it = trim_blanks(it);
    if (it.empty())
      throw ConfigError(where, fmt::format("'{}': an empty value in the sweep (write key=a,b,c)", arg));
    out.push_back(key + "=" + it);
  }
  return out;
}

std::string dir_name(int index, size_t cells, const std::vector<std::string>& swept) {
  const int width = static_cast<int>(std::to_string(std::max<size_t>(cells, 1) - 1).size());
  std::string name = fmt::format("{:0{}d}", index, std::max(width, 2));
  if (!swept.empty()) name += "-" + fmt::format("{}", fmt::join(swept, ","));
  for (auto& ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-' || ch == '=' ||
          ch == ',' || ch == '+'))
      ch = '_';
  return name.substr(0, 200);
}

}  // namespace

std::vector<SweepCell> expand_sweep(const std::vector<std::string>& args) {
  std::vector<std::vector<std::string>> axes;
  std::vector<bool> is_swept;
  size_t total = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    bool swept = false;
    axes.push_back(values_of(args[i], static_cast<int>(i) + 1, swept));
    is_swept.push_back(swept);
    total *= axes.back().size();
    if (total > kMaxCells)
      throw ConfigError(fmt::format("<command line>:1:{}", i + 1),
                        fmt::format("the sweep has more than {} cells; split it", kMaxCells));
  }
  std::vector<SweepCell> cells(total);
  for (size_t c = 0; c < total; ++c) {
    size_t rest = c;
    std::vector<size_t> pick(axes.size());
    for (size_t a = axes.size(); a-- > 0;) {  // the last axis varies fastest
      pick[a] = rest % axes[a].size();
      rest /= axes[a].size();
    }
    auto& cell = cells[c];
    cell.index = static_cast<int>(c);
    for (size_t a = 0; a < axes.size(); ++a) {
      cell.overrides.push_back(axes[a][pick[a]]);
      if (is_swept[a]) cell.swept.push_back(axes[a][pick[a]]);
    }
    cell.dir = dir_name(cell.index, total, cell.swept);
  }
  return cells;
}

namespace {

struct Plan {
  SweepCell cell;
  std::string action;  // skip | resume | train
  std::string hash;
};

struct Job {
  const Plan* plan;
  pid_t pid = -1;
  std::string stage;  // train | eval
  std::chrono::steady_clock::time_point started;
};

pid_t spawn(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& extra_env) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    const std::string var(*e);
    const bool replaced = std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& x) {
      return var.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
    });
    if (!replaced) env_store.push_back(var);
  }
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  // Each child in a process group of its own: a terminal's Ctrl-C reaches the sweep alone, which forwards it
  // once, so a second Ctrl-C stops the sweep without killing the children mid-write.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)), 1);
  return pid;
}

nlohmann::json run_json(const fs::path& dir) {
  try {
    if (fs::exists(dir / "run.json")) {
      auto j = nlohmann::json::parse(read_text((dir / "run.json").string()), nullptr, false);
      if (j.is_object()) return j;
    }
  } catch (const std::exception&) {
  }
  return nlohmann::json::object();
}

// `suite` is the suite's name (eval/<name>.csv, as lrbench eval writes it).
std::string suite_csv(const fs::path& dir, const std::string& suite) {
  return suite.empty() ? "" : (dir / "eval" / (suite + ".csv")).string();
}

// sweep.csv and summary.md, rebuilt from the cells' own records, under a lock: several array tasks write them.
void write_index_locked(const fs::path& root, const std::vector<SweepCell>& cells, const std::map<int, Plan>& plans,
                        const std::string& suite, std::ostream* out);
void write_index(const fs::path& root, const std::vector<SweepCell>& cells, const std::map<int, Plan>& plans,
                 const std::string& suite, std::ostream* out) {
  const int fd = ::open((root / ".index.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::flock(fd, LOCK_EX);
  try {
    write_index_locked(root, cells, plans, suite, out);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    throw;
  }
  if (fd >= 0) ::close(fd);
}

void write_index_locked(const fs::path& root, const std::vector<SweepCell>& cells, const std::map<int, Plan>& plans,
                 const std::string& suite, std::ostream* out) {
  CsvTable t({"cell", "dir", "overrides", "status", "spec_hash", "final_test_acc", "seconds", "eval", "error"});
  std::string md = "| cell | overrides | status | test acc (%) | seconds |\n|---:|---|---|---:|---:|\n";
  for (const auto& c : cells) {
    const auto dir = root / c.dir;
    auto j = run_json(dir);
    std::string status = j.value("status", std::string(fs::exists(dir) ? "interrupted" : "pending"));
    if (status == "running") status = "interrupted";
    std::string error = j.value("error", std::string());
    auto num = [&](const char* k, int digits) {
      return j.contains(k) && j[k].is_number() ? csv_number(j[k].get<double>(), digits) : std::string();
    };
    const auto csv = suite_csv(dir, suite);
    t.add({std::to_string(c.index), c.dir, fmt::format("{}", fmt::join(c.overrides, " ")), status,
           j.value("spec_hash", std::string()), num("final_test_acc", 6), num("seconds", 4),
           !csv.empty() && fs::exists(csv) ? fs::relative(csv, root).string() : "", error});
    md += fmt::format("| {} | {} | {} | {} | {} |\n", c.index, fmt::join(c.swept, " "), status,
                      num("final_test_acc", 4), num("seconds", 3));
  }
  t.save((root / "sweep.csv").string());
  write_text_atomic((root / "summary.md").string(), md);
  if (out) *out << md;
}

}  // namespace

int run_sweep(const SweepRequest& req, std::ostream& out) {
  auto log = logger("sweep");
  auto cells = expand_sweep(req.args);
  if (req.cell && (*req.cell < 0 || static_cast<size_t>(*req.cell) >= cells.size()))
    throw ConfigError("--cell", fmt::format("no cell {} (the sweep has cells 0 to {})", *req.cell, cells.size() - 1));
  // The folder's default comes from the experiment's name (cell 0's: a swept name gets one folder too).
  std::string out_dir = req.out;
  if (out_dir.empty()) {
    auto root = compose(req.config, cells.front().overrides);
    std::string name = "experiment";
    if (auto n = root->get("name"); n && n->kind == ConfigNode::Kind::kScalar) name = n->scalar;
    require_plain_name(name, req.config, "the experiment's name");
    out_dir = "runs/" + name + "/sweep";
  }
  if (req.list) {
    out << "# sweep folder: " << out_dir << "\n";
    for (const auto& c : cells) out << fmt::format("{}\t{}\t{}\n", c.index, c.dir, fmt::join(c.overrides, " "));
    return 0;
  }
  require_writable_output(out_dir, "--out", OutputKind::kDirectory);
  const fs::path root(out_dir);
  const std::string suite = req.suite.empty() ? "" : load_suite(find_suite(req.suite), {}).name;

  // Every cell is planned before anything is written: a config error in any of them is said here, once, and
  // leaves no folder behind (exit 2).
  std::map<int, Plan> plans;
  for (const auto& c : cells) {
    if (req.cell && c.index != *req.cell) continue;
    Plan p{c, "train", ""};
    try {
      p.hash = plan_run(compose(req.config, c.overrides), 1.0 / std::max(1, req.jobs)).spec.hash;
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("cell {} ({}): {}", c.index, fmt::join(c.overrides, " "), e.what()));
    }
    plans.emplace(c.index, p);
  }

  // One sweep per folder: its definition (the experiment, every cell's overrides, the suite) is written once and
  // must match on every later run; the same grid spelled another way (seed=0,1 or range(0,2)) is the same sweep.
  nlohmann::json grid = nlohmann::json::array();
  for (const auto& c : cells) grid.push_back(c.overrides);
  nlohmann::json def = {{"config", fs::absolute(req.config).lexically_normal().string()}, {"cells", grid},
                        {"suite", suite}};
  const auto def_path = root / "sweep.json";
  if (fs::exists(def_path)) {
    auto old = nlohmann::json::parse(read_text(def_path.string()), nullptr, false);
    if (old != def)
      throw ConfigError(def_path.string(),
                        fmt::format("holds another sweep (of {}, {} cells); give another --out, or delete the folder "
                                    "to start this one there",
                                    old.value("config", std::string("?")),
                                    old.contains("cells") && old["cells"].is_array() ? old["cells"].size() : 0));
  } else {
    fs::create_directories(root / "logs");
    write_text_atomic(def_path.string(), def.dump(2) + "\n");
  }
  fs::create_directories(root / "logs");

  for (auto& [index, p] : plans) {
    const auto& c = p.cell;
    const auto dir = root / c.dir;
    auto j = run_json(dir);
    const std::string status = j.value("status", std::string());
    // A run of an lrbench whose configs lacked their defaults states an older hash: the same experiment when its
    // own config resolves to today's.
    auto same = [&] {
      if (j.value("spec_hash", std::string()) == p.hash) return true;
      if (j.contains("config_schema") || !fs::exists(dir / "config.resolved.yaml")) return false;
      try {
        return plan_run(parse_yaml_file((dir / "config.resolved.yaml").string()), 0).spec.hash == p.hash;
      } catch (const Error&) {
        return false;
      }
    };
    if (status == "finished" && fs::exists(dir / "checkpoint.pt") && same()) {
      p.action = "skip";
    } else if (config_header_hash(dir.string()) == p.hash && status != "failed" && status != "finished") {
      p.action = "resume";
    } else if (fs::exists(dir)) {
      refuse_if_busy(dir.string(), "train");  // never touch a run another process works on
      if (status == "failed") {
        out << fmt::format("== cell {} ({}): the last run failed ({}); retraining\n", index, fmt::join(c.swept, " "),
                           j.value("failure", std::string("error")));
        fs::remove_all(dir);
      } else {
        // The experiment file changed since: the old run is kept aside, never deleted.
        const std::string old = j.value("spec_hash", config_header_hash(dir.string()));
        auto aside = root / (c.dir + ".spec-" + (old.empty() ? std::string("unknown") : old));
        for (int n = 2; fs::exists(aside); ++n)  // an earlier kept run of the same spec stays too
          aside = root / fmt::format("{}.spec-{}.{}", c.dir, old.empty() ? std::string("unknown") : old, n);
        fs::rename(dir, aside);
        out << fmt::format("== cell {} ({}): its spec changed ({} -> {}); the old run is kept in {}\n", index,
                           fmt::join(c.swept, " "), old.empty() ? "?" : old, p.hash, aside.string());
      }
    }
  }

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> env;
  if (req.jobs > 1) env.push_back(fmt::format("LRBENCH_AUTO_THREADS={}", std::max(1u, cores / req.jobs)));
  std::deque<const Plan*> queue;
  for (const auto& [i, p] : plans) {
    const auto csv = suite_csv(root / p.cell.dir, suite);
    const bool evaluated = csv.empty() || (fs::exists(csv) && fs::exists(root / p.cell.dir / "checkpoint.pt") &&
                                           fs::last_write_time(csv) >= fs::last_write_time(root / p.cell.dir / "checkpoint.pt"));
    if (p.action == "skip" && evaluated) {
      out << fmt::format("== cell {} ({}): finished (spec {}), skipping\n", i, fmt::join(p.cell.swept, " "), p.hash);
      continue;
    }
    queue.push_back(&p);
  }
  auto start_job = [&](const Plan* p, const std::string& stage) {
    const auto dir = (root / p->cell.dir).string();
    std::vector<std::string> argv = req.lrbench;
    if (stage == "train") {
      argv.push_back("train");
      argv.push_back(req.config);
      for (const auto& o : p->cell.overrides) argv.push_back(o);
      argv.insert(argv.end(), {"--out", dir});
      if (p->action == "resume") argv.push_back("--resume");
      if (!req.tensorboard.empty()) argv.insert(argv.end(), {"--tensorboard", req.tensorboard});
    } else {
      argv.insert(argv.end(), {"eval", dir, "--suite", req.suite});
    }
    const auto logfile = (root / "logs" / (p->cell.dir + "." + stage + ".log")).string();
    out << fmt::format("== cell {} ({}): {}{} -> {}\n", p->cell.index, fmt::join(p->cell.swept, " "),
                       stage == "eval" ? "evaluating" : p->action == "resume" ? "resuming" : "training",
                       stage == "eval" ? " --suite " + req.suite : "", logfile);
    out.flush();
    return Job{p, spawn(argv, logfile, env), stage, std::chrono::steady_clock::now()};
  };

  StopListener listener;
  signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would reap the children before waitpid sees them
  std::vector<Job> running;
  // An exception here (a child that cannot start, a full disk for the index) must not leave children behind.
  struct Reaper {
    std::vector<Job>& jobs;
    ~Reaper() {
      for (auto& j : jobs) kill(j.pid, SIGTERM);
      for (auto& j : jobs) waitpid(j.pid, nullptr, 0);
    }
  } reaper{running};
  int failures = 0, stopped = 0;
  size_t done = 0;
  const size_t todo = queue.size();
  const auto t0 = std::chrono::steady_clock::now();
  while (!queue.empty() || !running.empty()) {
    if (const int sig = stop_requested(); sig && !stopped) {
      stopped = sig;
      queue.clear();
      for (auto& j : running) kill(j.pid, sig);  // each saves its resume state and exits
      out << fmt::format("== sweep: {} received, stopping {} running cell(s) at their next step\n", signal_name(sig),
                         running.size());
    }
    while (!stopped && !queue.empty() && static_cast<int>(running.size()) < std::max(1, req.jobs)) {
      const Plan* p = queue.front();
      queue.pop_front();
      running.push_back(start_job(p, p->action == "skip" ? "eval" : "train"));
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == ECHILD) {  // nothing left to wait for: every running job is gone
      for (auto& j : running) out << fmt::format("== cell {}: its process vanished\n", j.plan->cell.index);
      failures += static_cast<int>(running.size());
      running.clear();
      continue;
    }
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    auto it = std::find_if(running.begin(), running.end(), [&](const Job& j) { return j.pid == pid; });
    if (it == running.end()) continue;
    Job job = *it;
    running.erase(it);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - job.started).count();
    const auto& c = job.plan->cell;
    if (rc != 0) {
      if (!stopped) ++failures;
      out << fmt::format("== cell {} ({}): {} {} (exit {}) after {:.0f} s; see {}\n", c.index, fmt::join(c.swept, " "),
                         job.stage, stopped ? "stopped" : "failed", rc, secs,
                         (root / "logs" / (c.dir + "." + job.stage + ".log")).string());
    } else if (job.stage == "train" && !req.suite.empty() && !stopped) {
      auto j = run_json(root / c.dir);
      out << fmt::format("== cell {} ({}): trained in {:.1f} s, test accuracy {:.2f} %\n", c.index,
                         fmt::join(c.swept, " "), secs, j.value("final_test_acc", 0.0));
      running.push_back(start_job(job.plan, "eval"));
      continue;
    } else {
      auto j = run_json(root / c.dir);
      out << fmt::format("== cell {} ({}): {} in {:.1f} s, test accuracy {:.2f} %\n", c.index, fmt::join(c.swept, " "),
                         job.stage == "eval" ? "evaluated" : "trained", secs, j.value("final_test_acc", 0.0));
    }
    ++done;
    write_index(root, cells, plans, suite, nullptr);
    if (done < todo && !stopped) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      out << fmt::format("== sweep: {}/{} cells done in {:.0f} s; ETA ~{:.0f} s\n", done, todo, elapsed,
                         elapsed / static_cast<double>(done) * static_cast<double>(todo - done));
    }
  }
  out << fmt::format("\nsweep {} ({} cell{}) -> {}/sweep.csv\n", out_dir, cells.size(), cells.size() == 1 ? "" : "s",
                     out_dir);
  write_index(root, cells, plans, suite, &out);
  if (stopped) return 128 + stopped;
  return failures ? 1 : 0;
}

}  // namespace lrb
