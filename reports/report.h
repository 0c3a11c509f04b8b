// Reports: the long-format eval CSVs of an experiment -> the paper's table shape.
//   lrbench report table1 [RUNS_DIR] [--out-dir results] [--wall-seconds S]
// reads every RUNS_DIR/**/eval/<suite>.csv (and <suite>.sweep.csv), pivots rows model x algorithm and
// columns = the paper's metric names, and writes atomically:
//   <out>/table1.csv  long: model,algorithm,metric,accuracy,paper,delta,n,seeds,std,dataset,threat_params,...
//   <out>/table1.md   the paper's wide shape, "ours (paper, delta)" per cell, mean ± std over seeds when
//                     several exist, a footer with provenance (commit, dataset caveat, attack mode, per-cell
//                     seconds, total wall time when given)
//   <out>/table1_eps.png  accuracy vs eps per cell (gnuplot) when the suite had a sweep
//   <out>/table1.html     with --html: one self-contained page (write_html_report below)
// The report's definition lives in reports/<name>.yaml (title, paper CSV, suite, rows, columns, sweep).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/csv.h"
#include "reports/check.h"

namespace lrb {

namespace report_detail {
struct Gathered;  // reports/gather.h
}

// One sentence of the paper's text that compares two algorithms, as the mean over `models` x `columns` of
// algorithm − baseline (percentage points): "LR has an average improvement of ... 44.3% on adversarial examples" is
// LR − BP over SNN-MNIST and SNN-FashionMNIST x FGSM, I-FGSM, MI-FGSM (reports/claims.h computes it on the
// paper's table and on ours).
struct ClaimSpec {
  std::string says;                         // the paper's words, quoted in the report
  double value = 0;                         // the number the text gives (signed: a drop is negative)
  std::string value_text;                   // ... as written in the YAML ("2.63"): its decimals are the text's
  std::string algorithm, baseline = "BP";   // the report's algorithm names
  std::vector<std::string> models, columns;  // models: empty = all of the report's
  // Our columns the claim is computed on instead of `columns` (YAML `ours_on`), one for each: the same sentence under
  // another protocol (Table 2's PWWS as OpenAttack runs it); empty = `columns`. The paper's value stays on `columns`.
  std::vector<std::string> ours_on;
  const std::vector<std::string>& our_columns() const { return ours_on.empty() ? columns : ours_on; }
};

// A protocol choice the paper leaves open and a run's config makes (`protocol:` in reports/<table>.yaml): the
// report names the value each algorithm's runs used, so a table says which protocol its numbers are under.
struct ProtocolChoice {
  std::string what;      // "SNN readout"
  std::string key;       // dotted config key: "model.readout"
  std::string fallback;  // YAML `default`: the value a config that does not set the key gets (the reader's default);
                         // empty: such a run is not listed (a key only some trainers read)
};

// The training budget the paper (or, where it is silent, the paper profile) gives every cell (`schedule:` in
// reports/<table>.yaml): "What it cannot show" names each cell's share of it, from the run's config.
struct Schedule {
  int64_t epochs = 0;          // the paper's epochs
  int64_t train_examples = 0;  // examples per epoch; 0 = full batch (a graph: one step per epoch)
  std::string source;          // where the numbers come from ("LR_Test train.py")
};

struct ReportSpec {
  std::string name;                          // "table1"
  std::string title;
  std::string paper_csv;                     // model,algorithm,metric,accuracy (shared/paper format)
  std::string suite;                         // eval file stem: <run>/eval/<suite>.csv
  std::vector<std::string> models, algorithms, columns;  // paper names, in print order
  // Our algorithm name -> the paper's row name, where they differ (Table 2 prints the lr-l trainer as "LR").
  std::map<std::string, std::string> algorithm_names;
  std::string sweep_param;                   // e.g. "eps"; empty = no sweep plot
  // Columns whose sweep varies another setting than sweep_param (Table 1: Poisson's rate, Gaussian's std): their
  // curves get a plot and a CSV of their own (<name>_<param>.csv), and masking check 2 reads sweep_param's only.
  std::map<std::string, std::string> sweep_params;
  const std::string& sweep_param_of(const std::string& column) const {
    auto it = sweep_params.find(column);
    return it == sweep_params.end() ? sweep_param : it->second;
  }
  // Columns whose cell is the mean of the sweep's rows of that metric in each run (one value per seed), e.g.
  // Table 3's RA and DICE average the ten edge rates; each rate's value is also a row of the long CSV.
  std::vector<std::string> sweep_mean;
  std::string notes;                         // free text printed under the table (method caveats)
  double chance = 0;                         // accuracy (%) of guessing, for masking check 5; 0 = not checked
  // Examples in the dataset's whole test set (the paper evaluates on all of them); 0 = not stated. Cells measured
  // on fewer are named in "What it cannot show".
  int64_t test_examples = 0;
  std::vector<ClaimSpec> claims;             // the paper's comparative sentences, in the text's order
  // Rows that are not the paper's but controls of its comparisons (BP+noise: BP under LR's noise), printed after the
  // algorithms when they have results and never counted as missing.
  std::vector<std::string> controls;
  // Examples the paper evaluates a column on where that is not the whole test set (Table 2's PWWS and GA: 200).
  std::map<std::string, int64_t> paper_examples;
  std::vector<ProtocolChoice> protocol;
  std::optional<Schedule> schedule;
  static ReportSpec load(const std::string& yaml_path);
};

struct ReportOptions {
  std::string runs_dir;                      // default runs/<name>
  std::string out_dir = "results";
  std::optional<double> wall_seconds;        // total wall time of the make target, for the footer
  std::string gnuplot = "gnuplot";           // program (PATH name or path) for the plots; "" = no plots
  bool html = false;                         // run_report also writes <out>/<name>.html
  // The HTML page marks a cell whose |ours - paper| exceeds this (percentage points); `lrbench report` sets it
  // from --mark-paper, else --check-paper.
  double html_paper_tolerance = 0;  // > 0: also mark cells this many pp from the paper (--mark-paper)
};

struct ReportResult {
  CsvTable long_table;
  std::string markdown;
  int cells_missing = 0;                     // model x algorithm x metric with no result
  std::vector<std::string> written;          // paths of the files written, in order
  std::vector<std::string> notes;            // what was skipped or ignored (one line each)
  // What the report was made of (the cells per seed, sweeps, times): the HTML page is written from the same
  // reading of the runs as the CSV and Markdown.
  std::shared_ptr<const report_detail::Gathered> gathered;
};

// Throws DataError when no eval CSV is found under runs_dir (one line naming the folder and the fix).
// Throws DataError naming file and column for a malformed eval, metrics or paper CSV.
ReportResult make_report(const ReportSpec& spec, const ReportOptions& opt);

// Writes <opt.out_dir>/<spec.name>.html atomically and returns its path: one page with no external resource
// (inline CSS, SVG drawn by gnuplot's svg terminal, a few lines of script), holding
//  - the paper-shaped table: ours (mean ± std over seeds), the paper's value and the difference, each cell
//    linked to its runs; cells off the paper by more than opt.html_paper_tolerance pp, and cells that one of
//    `checks` names, are marked;
//  - the checks' summaries; accuracy vs the swept parameter (eps, edge rate) per model and metric;
//  - training curves per model x algorithm (accuracy and loss per epoch of every seed, from metrics.csv);
//  - method notes, time per run, and per run its run.json (seed, commit, torch, device, dataset with its caveat,
//    checkpoint sha256) and config.resolved.yaml.
// Without gnuplot the page is written without plots and says so. `res` must come from make_report (it holds
// what make_report read; std::logic_error otherwise).
struct HtmlResult {
  std::string path;
  std::vector<std::string> notes;  // what the page lacks and why (no gnuplot, a run without run.json, ...)
};
HtmlResult write_html_report(const ReportSpec& spec, const ReportOptions& opt, const ReportResult& res,
                             const std::vector<CheckResult>& checks);

// Accuracy checks run after the report is made (reports/check.h). Expected files are read before anything is
// written, so `--check results/table1.csv` compares with the committed file the same run then replaces.
struct ReportChecks {
  std::vector<std::string> files;          // regression or report-format expected files (--check)
  std::optional<double> tolerance;         // percentage points, for report-format files (--tolerance)
  std::optional<double> paper_tolerance;   // compare with the paper column (--check-paper PP)
  std::vector<std::string> paper_metrics;  // ... only these columns (--paper-metrics Ori; empty = all)
  std::string update_expected;             // rewrite this regression file's rows of NAME (--update-expected)
};

// The `lrbench report NAME` verb: finds <dir>/<name>.yaml in $LRBENCH_REPORTS (if set), then in the
// source tree's reports/; opt.runs_dir "" = runs/<name>. Prints the Markdown and the written paths to `out`, then
// each check's summary and its table of offending cells; with opt.html, writes the HTML page last (its marks
// include the checks' offenders).
// Unknown name -> ConfigError listing the known reports. Returns the exit code: 0, or 1 when a check failed.
int run_report(const std::string& name, const ReportOptions& opt, std::ostream& out, const ReportChecks& checks = {});
// The folders run_report searches, in order.
std::vector<std::string> report_search_dirs();

}  // namespace lrb
