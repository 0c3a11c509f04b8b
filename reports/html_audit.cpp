#include <fmt/format.h>

#include "reports/conclusions.h"
#include "reports/html_page.h"

namespace lrb::report_detail {

namespace {
std::string html_cells(const std::vector<std::string>& cells, const char* tag, size_t first_numeric, size_t last_numeric) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i)
    out += fmt::format("<{0}{1}>{2}</{0}>", tag, i >= first_numeric && i <= last_numeric ? " class=\"num\"" : "",
                       html_escape(cells[i]));
  return out;
}
}  // namespace

void HtmlPage::claims() {
  const auto rows = claim_rows(spec_, g_);
  if (rows.empty()) return;
  section("claims", "The paper's claims");
  body_ += "<p>" + html_escape(claims_legend()) + "</p>\n<div class=\"scroll\"><table id=\"claims-table\"><thead><tr>" +
           html_cells(kClaimHeader, "th", 1, 0) + "</tr></thead><tbody>\n";
  for (const auto& r : rows) body_ += "<tr>" + html_cells(claim_cells(r), "td", 3, 5) + "</tr>\n";
  body_ += "</tbody></table></div>\n";
}

void HtmlPage::retention() {
  const auto rows = retention_rows(spec_, g_);
  if (rows.empty()) return;
  section("retention", "Retention");
  std::vector<std::string> head(spec_.columns.begin() + 1, spec_.columns.end());
  body_ += "<p>" + html_escape(retention_legend(spec_.columns.front())) +
           "</p>\n<div class=\"scroll\"><table id=\"retention-table\"><thead><tr><th>Model</th><th>Algorithm</th>" +
           html_cells(head, "th", 1, 0) + "</tr></thead><tbody>\n";
  for (const auto& r : rows)
    body_ += fmt::format("<tr><th>{}</th><th>{}</th>{}</tr>\n", html_escape(r.model), html_escape(r.label),
                         html_cells(r.cells, "td", 0, r.cells.size()));
  body_ += "</tbody></table></div>\n";
}

void HtmlPage::conclusions() {
  const auto c = report_detail::conclusions(spec_, g_, claim_rows(spec_, g_));
  auto list = [&](const char* id, const std::vector<std::string>& items, const char* none) {
    if (items.empty()) {
      body_ += fmt::format("<p id=\"{}\">{}</p>\n", id, html_escape(none));
      return;
    }
    body_ += fmt::format("<ul id=\"{}\">\n", id);
    for (const auto& s : items) body_ += "<li>" + html_escape(s) + "</li>\n";
    body_ += "</ul>\n";
  };
  section("shows", "What this table shows");
  list("shows-list", c.shows, kNothingShown);
  section("cannot-show", "What it cannot show");
  list("cannot-show-list", c.cannot_show, kNoLimitationFound);
}

}  // namespace lrb::report_detail
