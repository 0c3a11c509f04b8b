// The paper's claim rows (issue 33): each comparative sentence of its text (ReportSpec::claims) recomputed on the
// paper's own table and on ours, ours with a 95 % interval, so a reader sees whether our runs support the direction
// the paper states, and whether the paper's table supports its own text. Internal to lrb_reports.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "reports/gather.h"

namespace lrb::report_detail {

struct Interval {
  double lo = 0, hi = 0;
  std::string method;  // how it was computed, for the report's reader
};

struct ClaimRow {
  ClaimSpec claim;
  // The mean of algorithm − baseline over the claim's cells in the paper's table; nullopt when a cell is missing.
  std::optional<double> paper_table;
  std::optional<double> ours;
  std::optional<Interval> interval;    // of ours
  std::vector<std::string> missing;    // our cells without a result ("ResNet-5 LR-WL FGSM")
  // Rows whose clean accuracy differs from the baseline's by more than kMatchedAccuracyPp (attacked columns only):
  // "ResNet-5: LR-WL 38.20 vs BP 66.10".
  std::vector<std::string> confounded;
  // The claim against the rows "BP (matched to ALG)" (the baseline's snapshot at the algorithm's clean accuracy,
  // experiments/snapshots.h) instead of the final baseline; robustness claims only, when every cell has one.
  std::optional<double> matched;
  std::optional<Interval> matched_interval;
  // The claim against BP trained under the algorithm's own noise (noise_control_of), when every cell has one.
  std::optional<double> control;
  std::optional<Interval> control_interval;
  // The sentence over the models this table has all the cells of, after its row over every model found some missing
  // (an audit profile that cuts a model): claim.models is that subset, paper_table the paper's table over it.
  bool subset = false;
};

// The noise-injection control of an LR algorithm's row: "LR-WL" -> "BP+noise-WL", "LR" -> "BP+noise"; "" otherwise.
std::string noise_control_of(const std::string& algorithm);

// The row label of the baseline at the claim's algorithm's clean accuracy: "BP (matched to LR-WL)".
std::string matched_label(const ClaimSpec& claim);

// How far apart two clean accuracies may be for their robustness to be compared (the issue's matched accuracy).
inline constexpr double kMatchedAccuracyPp = 2.0;

// The paper's text rounds to its own decimals: does the table's value print as the text's number?
bool text_matches_table(const ClaimSpec& claim, double table_value);

// The text's number as it prints it, signed: "+2.63", "−4.8".
std::string text_value(const ClaimSpec& claim);

// The claim on the paper's table alone.
std::optional<double> paper_claim(const ClaimSpec& claim, const std::map<Key, PaperValue>& paper);

// Every claim of the spec. Interval: where every cell of the claim has the same two or more seeds, a t interval over
// the per-seed claim values (training variability included); otherwise a normal approximation of the binomial
// sampling error of each cell's n test examples: the algorithm's and the baseline's cells unpaired (the eval CSVs
// keep no per-example outcome), a model's columns taken as fully correlated (they share its examples: FGSM and
// I-FGSM fail on much the same images), models as independent.
std::vector<ClaimRow> claim_rows(const ReportSpec& spec, const Gathered& g);

// "LR-WL above BP: the paper's direction; the paper's +5.63 is outside our interval", "cannot tell LR-WL from BP ...",
// then the comparisons with the noise control and at matched accuracy where the table has them.
std::string claim_verdict(const ClaimRow& row);

// "[−1.20, +3.40]": an interval's ends as the report prints them.
std::string range_text(const Interval& i);

// One claim row as the claim table's cells (kClaimHeader's order), plain text: each output escapes them.
extern const std::vector<std::string> kClaimHeader;
std::vector<std::string> claim_cells(const ClaimRow& row);

// The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1; the normal 1.96 beyond 30).
double t975(size_t df);

}  // namespace lrb::report_detail
