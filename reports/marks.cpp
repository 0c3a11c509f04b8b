#include "reports/marks.h"

#include <fmt/format.h>

#include <cmath>

#include "reports/masking.h"

namespace lrb::report_detail {

std::string Reversal::text() const { return fmt::format("retention − BP's: ours {:+.2f}, paper {:+.2f}", ours, paper); }

std::map<Key, Reversal> reversed_cells(const ReportSpec& spec, const Gathered& g, size_t* comparable) {
  std::map<Key, Reversal> out;
  size_t n = 0;
  if (spec.columns.empty()) return out;
  const std::string& clean = spec.columns.front();
  auto ours = [&](const Key& k) -> std::optional<double> {
    auto it = g.cells.find(k);
    return it == g.cells.end() || it->second.acc.empty() ? std::nullopt : std::optional<double>(stats(it->second).mean);
  };
  auto paper = [&](const Key& k) -> std::optional<double> {
    auto it = g.paper.find(k);
    return it == g.paper.end() ? std::nullopt : std::optional<double>(it->second.value);
  };
  auto retention = [](std::optional<double> acc, std::optional<double> base) -> std::optional<double> {
    return acc && base && *base > 0 ? std::optional<double>(*acc / *base) : std::nullopt;
  };
  // A row within reach of chance has no robustness to order (masking check 5 greys it out): left out.
  const auto near_chance = near_chance_rows(spec, g);
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms) {
      if (a == "BP" || near_chance.count({m, a}) || near_chance.count({m, "BP"})) continue;
      for (size_t c = 1; c < spec.columns.size(); ++c) {
        const auto& col = spec.columns[c];
        const Key cell{m, a, col}, bp{m, "BP", col}, cell0{m, a, clean}, bp0{m, "BP", clean};
        auto ro = retention(ours(cell), ours(cell0)), rb = retention(ours(bp), ours(bp0));
        auto po = retention(paper(cell), paper(cell0)), pb = retention(paper(bp), paper(bp0));
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
