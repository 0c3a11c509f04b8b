#include "experiments/run_dir.h"

#include "experiments/run_lock.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb {

namespace fs = std::filesystem;

namespace {

// The spec hash a directory's run claims: run.json's, else the header line of config.resolved.yaml
// (a run that stopped before its first checkpoint has no run.json).
std::string spec_of_dir(const fs::path& dir) {
  try {
    if (fs::exists(dir / "run.json")) {
      auto j = nlohmann::json::parse(read_text((dir / "run.json").string()));
      if (j.contains("spec_hash") && j["spec_hash"].is_string()) return j["spec_hash"].get<std::string>();
    }
    if (fs::exists(dir / "config.resolved.yaml")) {
      auto text = read_text((dir / "config.resolved.yaml").string());
      std::smatch m;
      static const std::regex header("spec_hash ([0-9a-f]+)");
      if (std::regex_search(text, m, header)) return m[1];
    }
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

std::string config_header_hash(const std::string& run_dir) {
  const auto path = fs::path(run_dir) / "config.resolved.yaml";
  try {
    auto text = read_text(path.string());
    std::smatch m;
    static const std::regex header("^# lrbench resolved config: spec_hash ([0-9a-f]+)");
    if (std::regex_search(text, m, header)) return m[1];
  } catch (const std::exception&) {
  }
  return "";
}

RunRecord read_run_record(const std::string& run_dir, bool require_checkpoint) {
  const auto path = (fs::path(run_dir) / "run.json").string();
  if (!fs::exists(path))
    throw CheckpointError(path + ": not found, so the checkpoint cannot be verified (the run stopped before its "
                                 "first checkpoint, or was not written by lrbench train); retrain it");
  return parse_run_record(read_text(path), path, require_checkpoint);
}

RunRecord parse_run_record(const std::string& text, const std::string& path, bool require_checkpoint) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception&) {
    throw CheckpointError(path + ": not valid JSON (damaged); retrain the run");
  }
  if (!j.is_object()) throw CheckpointError(path + ": not a JSON object (damaged); retrain the run");
  RunRecord r;
  auto str = [&](const char* key) -> std::string {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  r.spec_hash = str("spec_hash");
  r.status = str("status");
  r.failure = str("failure");
  r.error = str("error");
  if (j.contains("config_schema") && j["config_schema"].is_number_integer())
    r.config_schema = j["config_schema"].get<int64_t>();
  if (j.contains("checkpoint") && j["checkpoint"].is_object()) {
    const auto& c = j["checkpoint"];
    if (c.contains("sha256") && c["sha256"].is_string()) r.checkpoint_sha256 = c["sha256"].get<std::string>();
    if (c.contains("epoch") && c["epoch"].is_number_integer()) r.checkpoint_epoch = c["epoch"].get<int64_t>();
  }
  if (r.spec_hash.empty()) throw CheckpointError(path + ": has no spec_hash (damaged); retrain the run");
  if (r.checkpoint_sha256.empty() && require_checkpoint && r.status == "failed")
    throw CheckpointError(fmt::format("{}: the run failed before its first checkpoint ({}), so there is no model; fix "
                                      "the cause and train again",
                                      path, r.error.substr(0, 300)));
  if (r.checkpoint_sha256.empty() && require_checkpoint)
    throw CheckpointError(path + ": records no checkpoint sha256 (written by an lrbench before checkpoints were "
                                 "checksummed), so checkpoint.pt cannot be verified; retrain the run");
  return r;
}

void require_free_out_dir(const std::string& out_dir, const std::string& spec_hash) {
  const fs::path dir(out_dir);
  if (!fs::exists(dir)) return;
  if (!fs::is_directory(dir))
    throw ConfigError(out_dir, "--out names a file, not a directory; choose a new or empty directory");
  if (fs::is_empty(dir) || only_scaffolding(out_dir)) return;  // a run killed before its first file counts as empty
  auto other = spec_of_dir(dir);
  if (other == spec_hash)
    throw ConfigError(out_dir, fmt::format("--out already holds a run of this same spec ({}); continue it with "
                                           "lrbench train ... --resume, or delete the directory to train again",
                                           spec_hash));
  if (!other.empty())
    throw ConfigError(out_dir, fmt::format("--out holds another run (spec {}, this one is {}); choose another --out, "
                                           "or delete that run first",
                                           other, spec_hash));
  throw ConfigError(out_dir, "--out is not empty and holds no lrbench run; choose a new or empty directory");
}

ResumeFrom resume_point(const std::string& out_dir, const std::string& spec_hash) {
  const fs::path dir(out_dir);
  if (!fs::exists(dir)) return ResumeFrom::kStart;
  if (!fs::is_directory(dir))
    throw ConfigError(out_dir, "--out names a file, not a directory; choose a run directory to resume");
  if (fs::is_empty(dir) || only_scaffolding(out_dir)) return ResumeFrom::kStart;
  auto other = spec_of_dir(dir);
  if (other.empty())
    throw ConfigError(out_dir, "--resume: the directory holds no lrbench run; choose the run's own --out");
  if (other != spec_hash)
    throw ConfigError(out_dir, fmt::format("--resume: the directory holds a run of spec {}, this config is spec {} "
                                           "(resume with the run's own config.resolved.yaml and overrides, or "
                                           "choose another --out)",
                                           other, spec_hash));
  if (fs::exists(dir / "run.json")) {
    auto r = read_run_record(out_dir, /*require_checkpoint=*/false);
    if (r.status == "finished") return ResumeFrom::kFinished;
    // A diverged run would diverge again; one stopped by its surroundings (disk, memory, a lost rank) resumes.
    if (r.status == "failed" && (r.failure.empty() || r.failure == "diverged"))
      throw ConfigError(out_dir, "--resume: this run diverged (see its run.json and log.txt), and resuming would "
                                 "repeat it; delete the directory and train with other settings");
  }
  return fs::exists(dir / kResumeFile) ? ResumeFrom::kState : ResumeFrom::kStart;
}

RunRecord check_run_is_whole(const std::string& run_dir, const std::string& config_spec_hash,
                             const std::string& checkpoint_spec_hash) {
  auto r = read_run_record(run_dir);
  const auto json = (fs::path(run_dir) / "run.json").string();
  const auto config = (fs::path(run_dir) / "config.resolved.yaml").string();
  const auto ckpt = (fs::path(run_dir) / "checkpoint.pt").string();
  if (r.spec_hash != config_spec_hash)
    throw CheckpointError(fmt::format("{}: belongs to spec {} but run.json to spec {} (the directory mixes two "
                                      "runs); retrain into a new directory",
                                      config, config_spec_hash, r.spec_hash));
  if (checkpoint_spec_hash != r.spec_hash)
    throw CheckpointError(fmt::format("{}: belongs to spec {} but {} to spec {} (the directory mixes two runs); "
                                      "retrain into a new directory",
                                      ckpt, checkpoint_spec_hash, json, r.spec_hash));
  return r;
}

}  // namespace lrb
