// `lrbench sweep`: Hydra's multirun over one experiment. Each override may sweep (comma list `a,b,c`,
// `range(start,stop[,step])`, `choice(a,b)`); the grid is their product, the last varying fastest, as Hydra's
// basic sweeper. Every cell is one `lrbench train` (and `eval --suite`) in a child process, in a run directory
// of its own under one sweep folder, with an index (sweep.csv: cell -> overrides -> status) and a summary at
// the end. Re-running the same command skips finished cells, resumes interrupted ones and retrains the rest.
#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace lrb {

struct SweepCell {
  int index = 0;
  std::vector<std::string> overrides;  // every override of the cell, in the command line's order
  std::vector<std::string> swept;      // those that came from a sweep, for its folder name and the summary
  std::string dir;                     // folder name under the sweep folder
};

// The grid of `args`: throws ConfigError at "<command line>:1:N" for an empty item, a malformed range() or
// choice(), a range with no values, or more than 10000 cells. Commas inside [...], {...}, (...) or quotes do
// not sweep (model.hidden=[256,128] is one value).
std::vector<SweepCell> expand_sweep(const std::vector<std::string>& args);

struct SweepRequest {
  std::string config;                  // experiment YAML
  std::vector<std::string> args;       // overrides, some of them sweeps
  std::string out;                     // sweep folder (default runs/<name>/sweep)
  int jobs = 1;                        // cells run at once (each gets cores / jobs threads unless threads is set)
  std::string suite;                   // also `lrbench eval CELL --suite NAME` after training
  std::optional<int> cell;             // run this cell only (a Slurm array task: --cell $SLURM_ARRAY_TASK_ID)
  bool list = false;                   // print the cells and exit
  std::string tensorboard;             // each cell: lrbench train --tensorboard DIR
  std::vector<std::string> lrbench;    // argv prefix of a child: this binary and its global options
};

// Exit code: 0 when every cell finished, 1 when any failed or was refused, 128 + signal when stopped.
int run_sweep(const SweepRequest& req, std::ostream& out);

}  // namespace lrb
