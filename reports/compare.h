// `lrbench compare RUN...`: runs side by side, outside any paper table (an LR-WL run beside its BP twin, the
// cells of a sweep): the config keys that differ, clean and per-threat accuracy with retention (robust / clean),
// training curves overlaid, and time per run. In the terminal, as compare.md and as one self-contained
// compare.html (inline CSS and SVG, the tables scroll inside themselves with the first column kept in view).
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace lrb {

struct CompareOptions {
  std::vector<std::string> runs;   // run directories written by lrbench train
  std::string suite;               // eval/<suite>.csv of each run; "" = every eval CSV a run has (not transfer)
  std::string out_dir;             // where compare.md and compare.html go; "" = terminal only
  std::string gnuplot = "gnuplot"; // "" = no curves
};

// Throws ConfigError naming the run for a folder that is no run (no config.resolved.yaml) and for fewer than 2.
int run_compare(const CompareOptions& opt, std::ostream& out);

}  // namespace lrb
