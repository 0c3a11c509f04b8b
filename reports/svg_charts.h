// Line charts as inline SVG for the HTML report, drawn by gnuplot's svg terminal: one gnuplot process for all
// charts of a page. Internal to lrb_reports.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lrb::report_detail {

struct ChartSeries {
  std::string name;                              // legend entry
  std::vector<std::pair<double, double>> xy;     // points in x order; a non-finite y leaves a gap
  int color = 1;                                 // gnuplot line colour index (1 ...): one per seed or algorithm
  int dash = 1;                                  // gnuplot dash type: 1 solid, 2 dashed, 3 dotted
};

struct Chart {
  std::string title, xlabel, ylabel;
  std::vector<ChartSeries> series;
  bool y_from_zero = false;                      // accuracy charts start at 0 so drops read at their true size
  bool integer_x = false;                        // x counts (epochs): no fractional tics
};

// One standalone <svg> element per chart, in order: the XML prolog removed and every id prefixed with
// "<id_prefix><index>-", so that many charts can live in one HTML page. Draws 480 x 300 user units (the page's
// CSS scales them). nullopt with `error` set (one line) when `gnuplot` is not found or fails; nothing is left
// in the temporary folder either way.
std::optional<std::vector<std::string>> render_svg_charts(const std::string& gnuplot, const std::vector<Chart>& charts,
                                                          const std::string& id_prefix, std::string& error);

}  // namespace lrb::report_detail
