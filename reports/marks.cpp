#include "reports/marks.h"

#include <fmt/format.h>

#include <cmath>

#include "reports/masking.h"

namespace lrb::report_detail {

std::string Reversal::text() const { return fmt::format("retention − BP's: ours {:+.2f}, paper {:+.2f}", ours, paper); }

namespace {
std::optional<double> retention_ratio(std::optional<double> acc, std::optional<double> base) {
  return acc && base && *base > 0 ? std::optional<double>(*acc / *base) : std::nullopt;
}
std::optional<double> paper_mean(const Gathered& g, const Key& k) {
  auto it = g.paper.find(k);
  return it == g.paper.end() ? std::nullopt : std::optional<double>(it->second.value);
}
Key clean_key(const ReportSpec& spec, const Key& k) { return Key{std::get<0>(k), std::get<1>(k), spec.columns.front()}; }
}  // namespace

std::optional<double> our_retention(const ReportSpec& spec, const Gathered& g, const Key& cell) {
  return spec.columns.empty() ? std::nullopt : retention_ratio(mean_of(g, cell), mean_of(g, clean_key(spec, cell)));
}
std::optional<double> paper_retention(const ReportSpec& spec, const Gathered& g, const Key& cell) {
  return spec.columns.empty() ? std::nullopt : retention_ratio(paper_mean(g, cell), paper_mean(g, clean_key(spec, cell)));
}

std::vector<RetentionRow> retention_rows(const ReportSpec& spec, const Gathered& g) {
  std::vector<RetentionRow> out;
  const auto near_chance = near_chance_rows(spec, g);
  for (const auto& m : spec.models)
    for (const auto& ra : row_algorithms(spec, g)) {
      // A row near chance keeps ~100 % of nothing: labelled, so the number is not read as robustness.
      RetentionRow row{m, ra.label + (near_chance.count({m, ra.label}) ? " (near chance)" : ""), {}};
      bool any = false;
      for (size_t c = 1; c < spec.columns.size(); ++c) {
        const Key k{m, ra.label, spec.columns[c]};
        auto ours = our_retention(spec, g, k), paper = paper_retention(spec, g, k);
        any |= ours.has_value();
        row.cells.push_back(!ours   ? "—"
                            : paper ? fmt::format("{:.1f} ({:.1f})", 100 * *ours, 100 * *paper)
                                    : fmt::format("{:.1f}", 100 * *ours));
      }
      if (any) out.push_back(std::move(row));
    }
  return out;
}

std::map<Key, Reversal> reversed_cells(const ReportSpec& spec, const Gathered& g, size_t* comparable) {
  std::map<Key, Reversal> out;
  size_t n = 0;
  if (spec.columns.empty()) return out;
  // A row within reach of chance has no robustness to order (masking check 5 greys it out): left out.
  const auto near_chance = near_chance_rows(spec, g);
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms) {
      if (a == "BP" || near_chance.count({m, a}) || near_chance.count({m, "BP"})) continue;
      for (size_t c = 1; c < spec.columns.size(); ++c) {
        const auto& col = spec.columns[c];
        const Key cell{m, a, col}, bp{m, "BP", col};
        auto ro = our_retention(spec, g, cell), rb = our_retention(spec, g, bp);
        auto po = paper_retention(spec, g, cell), pb = paper_retention(spec, g, bp);
        if (!ro || !rb || !po || !pb) continue;
        ++n;
        const Reversal r{*ro - *rb, *po - *pb};
        if (r.ours * r.paper < 0 && std::fabs(r.ours) > kOurMargin && std::fabs(r.paper) > kPaperMargin)
          out.emplace(cell, r);
      }
    }
  if (comparable) *comparable = n;
  return out;
}

std::string reversal_legend(size_t marked, size_t comparable) {
  return fmt::format(
      "⇄ marks {} of {} cells where both we and the paper have the algorithm's and BP's accuracy under the threat "
      "and clean: there our retention (accuracy / the same row's clean accuracy) minus BP's has the opposite sign to "
      "the paper's, ours by more than {:.2f} and the paper's by more than {:.2f}, so the ordering of that "
      "algorithm's robustness against BP's is the reverse of the paper's (rows near chance accuracy are left out). "
      "Distance from the paper's numbers alone is not marked: a quick profile's lower budget moves every cell.",
      marked, comparable, kOurMargin, kPaperMargin);
}

}  // namespace lrb::report_detail
