#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/conclusions.h"
#include "reports/marks.h"

namespace lrb::report_detail {

namespace {
std::string md_row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& c : cells) out += " " + md_text(c) + " |";
  return out + "\n";
}
}  // namespace

std::string claims_markdown(const std::vector<ClaimRow>& rows) {
  if (rows.empty()) return "";
  std::string md = "\n## The paper's claims\n\n" + claims_legend() + "\n\n" + md_row(kClaimHeader) + "|";
  for (size_t i = 0; i < kClaimHeader.size(); ++i) md += i >= 3 && i <= 5 ? "---:|" : "---|";  // Text .. Ours: numbers
  md += "\n";
  for (const auto& r : rows) md += md_row(claim_cells(r));
  return md;
}

std::string retention_markdown(const ReportSpec& spec, const Gathered& g) {
  const auto rows = retention_rows(spec, g);
  if (rows.empty()) return "";
  std::vector<std::string> header = {"Model", "Algorithm"};
  header.insert(header.end(), spec.columns.begin() + 1, spec.columns.end());
  std::string md = "\n## Retention\n\n" + retention_legend(spec.columns.front()) + "\n\n" + md_row(header) + "|---|---|";
  for (size_t i = 2; i < header.size(); ++i) md += "---:|";
  md += "\n";
  for (const auto& r : rows) {
    std::vector<std::string> cells = {r.model, r.label};
    cells.insert(cells.end(), r.cells.begin(), r.cells.end());
    md += md_row(cells);
  }
  return md;
}

std::string conclusions_markdown(const Conclusions& c) {
  auto list = [](const std::vector<std::string>& items, const char* none) {
    if (items.empty()) return std::string(none) + "\n";
    std::string out;
    for (const auto& s : items) out += "- " + md_text(s) + "\n";
    return out;
  };
  return "\n## What this table shows\n\n" + list(c.shows, kNothingShown) + "\n## What it cannot show\n\n" +
         list(c.cannot_show, kNoLimitationFound);
}

}  // namespace lrb::report_detail
