// What a report is made of, gathered from a runs directory before any formatting: the cells (one accuracy per
// seed), the sweep samples, the time each run took. The Markdown (report.cpp) and the HTML page (html.cpp) are
// both written from it. Internal to lrb_reports.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reports/eval_files.h"
#include "reports/plot.h"
#include "reports/report.h"

namespace lrb::report_detail {

// All results of one (model, algorithm, metric): one entry per seed.
struct Cell {
  std::vector<double> acc;
  std::vector<std::string> acc_seed;  // the seed of each acc entry (the long CSV's per_seed column)
  std::map<std::string, std::string> seed_file;  // seed -> the eval CSV it came from (RUN_DIR/eval/<suite>.csv)
  std::set<std::string> ns, datasets, params, commits;
  // Gradient attacks: examples whose first input gradient was exactly zero, of the examples counted (all seeds).
  int64_t zero_grad_examples = 0, grad_examples = 0;
  // Text attacks, one entry per seed that has them: TextAttack's summary columns.
  std::vector<double> success_rate, words_changed_pct, queries_per_example;
};

struct CellTime {
  std::optional<double> eval, sweep, train;  // seconds
  std::optional<size_t> epochs;
};

struct Stats {
  double mean = 0;
  std::optional<double> std;  // sample std, only with >= 2 seeds
  size_t seeds = 0;
};
Stats stats(const Cell& c);
// The mean over seeds of a cell that has a result; nullopt otherwise.
std::optional<double> mean_of(const Gathered& g, const Key& cell);
// The fewest examples any seed of the cell was measured on (its `n`); 0 when no seed's n is a number.
double min_examples(const Cell& c);

// TextAttack's attack summary of one text-attack cell: means over its seeds.
struct TextAttackRow {
  std::string model, algorithm, attack;
  double accuracy = 0, success_rate = 0, words_changed_pct = 0, queries_per_example = 0;
  // 100 - success rate where every example was attacked (threat_params attacked=all: the openattack preset), so the
  // rate is OpenAttack's count and this its robustness figure; empty for TextAttack's count (correct examples only).
  std::optional<double> one_minus_asr;
};
// Every cell with the summary, models x algorithms x columns in the spec's order (white-box rows).
std::vector<TextAttackRow> text_attack_rows(const ReportSpec& spec, const Gathered& g);
// What the summary's columns mean, for the Markdown and the HTML page alike.
extern const char* const kTextAttackSummaryNote;
// The commits of the results built from a modified working tree ("abc123-dirty"), sorted.
std::vector<std::string> dirty_commits(const Gathered& g);

// Everything gathered from RUNS_DIR, before formatting.
struct Gathered {
  std::filesystem::path root;
  Found found;
  std::map<Key, Cell> cells;               // Key = model, row label (algorithm or "ALG (transfer from SRC)"), metric
  std::map<std::string, CellTime> times;   // run directory relative to root -> its times
  std::set<std::string> ignored;           // model/algorithm/metric names the spec does not list
  std::vector<SweepSample> sweep;          // sorted: model, algorithm, metric, x (the spec's print order)
  std::set<std::string> transfer_modes;    // "transfer from BP", ... (lrbench eval --source)
  std::map<std::string, std::set<std::string>> file_commits;  // eval CSV -> the git commits of its rows
  std::map<Key, PaperValue> paper;         // the spec's paper CSV (empty without one)
  // The spec's protocol keys: key -> value -> the (algorithm, model) pairs whose runs used it (runs without a
  // readable config.resolved.yaml are left out).
  std::map<std::string, std::map<std::string, std::set<std::pair<std::string, std::string>>>> protocol;
  // With the spec's schedule: each run's share of it, under (model, algorithm): the share of the schedule's training
  // examples (epochs x examples per epoch, 1 = all of it) and the LR copies divisor (trainer.copies_divisor, 1 when
  // unset), one entry per distinct pair over seeds.
  std::map<std::pair<std::string, std::string>, std::set<std::pair<double, int64_t>>> budget;
  // Rows "BP (matched to ALG)" whose snapshot was chosen on examples the row is also scored on, under (model, row):
  // the split its .json names ("test[:2000]") and how many of the scored test examples it holds.
  struct MatchedOverlap {
    std::string split;
    int64_t overlap = 0, scored = 0;
  };
  std::map<std::pair<std::string, std::string>, MatchedOverlap> matched_overlap;
};

// RUNS_DIR of a report: opt.runs_dir, or runs/<name> when that is empty.
std::filesystem::path runs_root(const ReportSpec& spec, const ReportOptions& opt);

// Reads every eval file under `root`, then the spec's paper CSV. Throws DataError when there is no eval file
// (naming the folder and the command that writes them), when two results of one cell and seed exist (RUNS_DIR
// spans two experiments), or for a malformed or missing file.
// What was skipped is appended to `notes`, one line each.
Gathered gather(const ReportSpec& spec, const std::filesystem::path& root, std::vector<std::string>& notes);

// One line per protocol choice the runs make (spec.protocol, in its order): "SNN readout (model.readout): membrane
// (BP; ES; LR)", the values separated by " | "; an algorithm whose models differ names them ("0.5 (BP on GCN)").
// For the Markdown's and the HTML page's provenance alike.
std::vector<std::string> protocol_lines(const ReportSpec& spec, const Gathered& g);

// What the transfer rows show, one sentence per model, algorithm and transfer mode: the mean over the columns
// that have both a white-box and a transfer result, and which attack was the stronger one.
std::vector<std::string> transfer_findings(const ReportSpec& spec, const Gathered& g);

// A result's mode with the algorithm it names in the report's names: "matched to LR-L" -> "matched to LR" under
// algorithm_names {LR-L: LR} (also "transfer from ...").
std::string paper_mode(const ReportSpec& spec, const std::string& mode);
// Whether any result's mode starts with `prefix` ("transfer", "matched to", "noise on").
bool has_mode(const Gathered& g, const std::string& prefix);
// What the rows "BP (matched to ALG)" are, for the Markdown and the HTML page alike.
extern const char* const kMatchedRowsNote;

// A table row's algorithm: the spec's name, or for transfer results "LR (transfer from BP)".
std::string row_label(const std::string& algorithm, const std::string& mode);
struct RowAlg {
  std::string label, algorithm, mode;
};
// White-box rows in the spec's order, then the same algorithms under each transfer mode found.
std::vector<RowAlg> row_algorithms(const ReportSpec& spec, const Gathered& g);

// The settings the gathered sweep varies (eps, rate, std), the spec's sweep_param first, then the others by name:
// the order of the sweep CSVs, plots and sections.
std::vector<std::string> swept_settings(const ReportSpec& spec, const Gathered& g);

// Index in the spec's print order; names the spec does not list sort after it.
size_t rank(const std::vector<std::string>& order, const std::string& name);

// "0:71.20 1:70.55 2:72.00": every seed's value, in numeric seed order.
std::string per_seed(const Cell& c);

std::string join(const std::set<std::string>& s, const char* sep);
// Text from runs (eval CSV fields, directory names, notes naming them) as Markdown: no line break, table pipe,
// code-span quote or raw HTML tag can come through it.
std::string md_text(const std::string& s);
std::string signed1(double v);       // "+1.2", "−0.4" (U+2212), "±0.0"
std::string signed_fixed(double v, int decimals);  // the same with `decimals` decimals
std::string fixed2(double v);        // "71.20"; never "-0.00"
std::string opt_seconds(const std::optional<double>& s);  // "12.3" or "—"

}  // namespace lrb::report_detail
