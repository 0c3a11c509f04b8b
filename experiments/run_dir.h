// The run directory's contract: one run per directory, and run.json as the record that ties its
// config.resolved.yaml, checkpoint.pt and results together (spec hash, checkpoint sha256).
#pragma once
#include <cstdint>
#include <string>

namespace lrb {

// What run.json records about a run. status: "running" (a checkpoint exists, training goes on),
// "finished", or "failed" (training stopped; the recorded checkpoint is the last good one).
struct RunRecord {
  std::string spec_hash, status, checkpoint_sha256;
  int64_t checkpoint_epoch = 0;
  // status "failed": why ("diverged", "out-of-memory", "error"; empty in older runs, which failed only by
  // diverging) and the message.
  std::string failure, error;
  // 2: config.resolved.yaml holds every setting in effect (defaults and presets); 0: written before that.
  int64_t config_schema = 0;
};

// Reads RUN_DIR/run.json. Throws CheckpointError naming it when it is missing, not JSON, or lacks the
// spec hash or (with `require_checkpoint`) the checkpoint's sha256: a run from before checksums (retrain it),
// or one that failed before its first checkpoint (its error is quoted).
RunRecord read_run_record(const std::string& run_dir, bool require_checkpoint = true);
// The same from run.json's text (`path` names it in errors); fuzzed under sanitizers (tests/fuzz).
RunRecord parse_run_record(const std::string& text, const std::string& path, bool require_checkpoint = true);

// Refuses, with ConfigError naming the directory, a training --out that is a file or is not empty: it
// holds another run (its spec hash is named), a run of this same spec (continue it with --resume), or
// other files. A run is never mixed into another's directory.
void require_free_out_dir(const std::string& out_dir, const std::string& spec_hash);

// What `train --resume` finds in `out_dir` for a run of `spec_hash`.
enum class ResumeFrom {
  kStart,     // no directory, an empty one, or this spec's run killed before its first resumable state
  kState,     // this spec's run with RUN_DIR/resume.pt: continue from there
  kFinished,  // this spec's run finished: nothing to do
};
// Throws ConfigError naming the directory when it is a file, holds another spec's run or files that are
// not a run, or holds this spec's run that failed (resuming would repeat the failure).
ResumeFrom resume_point(const std::string& out_dir, const std::string& spec_hash);
constexpr const char* kResumeFile = "resume.pt";

// Checks that the run's config (whose spec hash is `config_spec_hash`), run.json and the checkpoint's own
// metadata name the same spec; returns the record (whose sha256 the checkpoint must then hash to).
// Throws CheckpointError naming the file that disagrees.
RunRecord check_run_is_whole(const std::string& run_dir, const std::string& config_spec_hash,
                             const std::string& checkpoint_spec_hash);

// The spec hash config.resolved.yaml's header states ("" when it has none or cannot be read).
std::string config_header_hash(const std::string& run_dir);

}  // namespace lrb
