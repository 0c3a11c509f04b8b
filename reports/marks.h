// The report's one mark that carries information at any budget: a cell whose robustness relative to BP is the
// reverse of the paper's. "Ours differs from the paper by more than N pp" marks nearly every cell of a quick
// profile (lower budgets lower every accuracy), so it says nothing; the paper's claim is an ordering (LR keeps
// more of its clean accuracy under a threat than BP), and where ours orders the two the other way is what a
// reader must see. Internal to lrb_reports.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/gather.h"

namespace lrb::report_detail {

// Retention of a cell = its accuracy / the clean accuracy (the spec's first column) of the same row.
constexpr double kOurMargin = 0.02;    // |our retention − BP's| must exceed this (2 % of clean: sampling noise)
constexpr double kPaperMargin = 0.01;  // |the paper's| must exceed this (its rounding to 0.1 pp)

struct Reversal {
  double ours = 0, paper = 0;  // retention − BP's retention, ours and the paper's
  std::string text() const;    // "retention − BP's: ours +0.12, paper −0.05"
};

// White-box cells of every non-BP algorithm in the threat columns whose retention − BP's retention has the
// opposite sign to the paper's, both beyond their margins; `comparable` counts the cells where both exist. Rows
// whose clean accuracy is within reach of chance (masking check 5) are left out: they have nothing to order.
std::map<Key, Reversal> reversed_cells(const ReportSpec& spec, const Gathered& g, size_t* comparable = nullptr);
std::string reversal_legend(size_t marked, size_t comparable);

// A cell's retention (its accuracy ÷ the same row's clean accuracy), ours and the paper's; nullopt without both
// values or with a clean accuracy of 0.
std::optional<double> our_retention(const ReportSpec& spec, const Gathered& g, const Key& cell);
std::optional<double> paper_retention(const ReportSpec& spec, const Gathered& g, const Key& cell);

// The retention table: one row per model and table row with any attacked result, a cell per attacked column (the
// spec's columns after the clean one): "61.2 (70.3)" (ours, the paper's, in %), "61.2" without the paper's, or "—".
struct RetentionRow {
  std::string model, label;
  std::vector<std::string> cells;
};
std::vector<RetentionRow> retention_rows(const ReportSpec& spec, const Gathered& g);

}  // namespace lrb::report_detail
