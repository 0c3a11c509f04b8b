#include "reports/svg_charts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include "core/fs.h"
#include "reports/plot.h"

namespace lrb::report_detail {

namespace fs = std::filesystem;

namespace {

std::string chart_script(const Chart& c, size_t index, const std::string& svg_path) {
  std::string gp;
  std::vector<std::string> plots;
  for (size_t s = 0; s < c.series.size(); ++s) {
    std::string data;
    bool gap = false;  // a blank line in a data block breaks the line there: a NaN epoch is not drawn over
    for (const auto& [x, y] : c.series[s].xy)
      if (std::isfinite(x) && std::isfinite(y)) {
        if (gap && !data.empty()) data += "\n";
        data += fmt::format("{:.10g} {:.10g}\n", x, y);
        gap = false;
      } else {
        gap = true;
      }
    if (data.empty()) continue;  // gnuplot refuses an empty block; the legend would name a line never drawn
    gp += fmt::format("$c{}s{} << EOD\n{}EOD\n", index, s, data);
    // Markers help read a sweep's few points; on a 100-epoch curve they would only blur the line.
    const char* style = c.series[s].xy.size() > 25 ? "lines lw 1.5" : "linespoints lw 1.5 pt 7 ps 0.5";
    plots.push_back(fmt::format("$c{}s{} using 1:2 with {} lc {} dt {} title {}", index, s, style, c.series[s].color,
                                c.series[s].dash, gp_string(c.series[s].name)));
  }
  // `reset` clears the previous chart's settings (not the terminal, nor the data blocks).
  gp += fmt::format("reset\nset output {}\nset grid\nset key outside right top vertical font ',8'\n", gp_string(svg_path));
  gp += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", gp_string(c.title), gp_string(c.xlabel),
                    gp_string(c.ylabel));
  if (c.y_from_zero) gp += "set yrange [0:*]\n";
  if (c.integer_x) {
    double hi = 0;
    for (const auto& series : c.series)
      for (const auto& [x, y] : series.xy) hi = std::isfinite(x) ? std::max(hi, x) : hi;
    // A short run (a 1-epoch regression cell) would otherwise get tics at 0.995, 1.005 ...
    gp += hi <= 12 ? fmt::format("set xtics 1\nset xrange [0.5:{}]\n", hi + 0.5) : "set format x '%.0f'\n";
  }
  if (plots.empty()) return gp + "set label 1 'no data' at graph 0.5, 0.5 center\nset xrange [0:1]\nset yrange [0:1]\n"
                               "plot NaN notitle\n";
  return gp + fmt::format("plot {}\n", fmt::join(plots, ", \\\n     "));
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// gnuplot names its definitions and groups the same in every chart (gpDot, gpPt0, textbox, gnuplot_canvas ...), and
// an HTML page must not hold an id twice: every id the chart defines, and every reference to it, gets the prefix.
std::string inline_svg(std::string svg, const std::string& prefix) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) return {};
  svg.erase(0, start);
  std::set<std::string> ids;
  for (const char* open : {"id='", "id=\""}) {
    const char close = open[3];
    for (size_t at = svg.find(open); at != std::string::npos; at = svg.find(open, at + 1)) {
      const size_t from = at + 4, to = svg.find(close, from);
      if (to != std::string::npos) ids.insert(svg.substr(from, to - from));
    }
  }
  for (const auto& id : ids)
    for (const char* quote : {"'", "\""}) {
      replace_all(svg, fmt::format("id={}{}{}", quote, id, quote), fmt::format("id={}{}{}{}", quote, prefix, id, quote));
      replace_all(svg, fmt::format("{}#{}{}", quote, id, quote), fmt::format("{}#{}{}{}", quote, prefix, id, quote));
      replace_all(svg, fmt::format("url(#{})", id), fmt::format("url(#{}{})", prefix, id));
    }
  return svg;
}

}  // namespace

std::optional<std::vector<std::string>> render_svg_charts(const std::string& gnuplot, const std::vector<Chart>& charts,
                                                          const std::string& id_prefix, std::string& error) {
  const auto program = find_program(gnuplot);
  if (!program) {
    error = gnuplot.empty() ? "plots disabled" : fmt::format("'{}' not found on PATH (install gnuplot-nox)", gnuplot);
    return std::nullopt;
  }
  if (charts.empty()) return std::vector<std::string>{};
  std::string templ = (fs::temp_directory_path() / "lrb-svg-XXXXXX").string();
  if (!::mkdtemp(templ.data())) {
    error = fmt::format("cannot create a temporary folder under {}", fs::temp_directory_path().string());
    return std::nullopt;
  }
  const fs::path dir = templ;
  std::string gp = "set terminal svg size 480,300 dynamic noenhanced font 'sans,10'\n";
  for (size_t i = 0; i < charts.size(); ++i) gp += chart_script(charts[i], i, (dir / fmt::format("c{}.svg", i)).string());
  gp += "unset output\n";
  const std::string script = (dir / "charts.gp").string(), log = (dir / "gnuplot.log").string();
  write_text_atomic(script, gp);
  const int rc = std::system(fmt::format("{} {} >{} 2>&1", shell_quote(*program), shell_quote(script),
                                         shell_quote(log)).c_str());
  std::optional<std::vector<std::string>> out;
  if (rc == 0) {
    out.emplace();
    for (size_t i = 0; i < charts.size(); ++i) {
      const fs::path f = dir / fmt::format("c{}.svg", i);
      std::string svg = fs::exists(f) ? inline_svg(read_text(f.string()), fmt::format("{}{}-", id_prefix, i)) : "";
      if (svg.empty()) {
        error = fmt::format("{} wrote no SVG for chart '{}'", *program, charts[i].title);
        out.reset();
        break;
      }
      out->push_back(std::move(svg));
    }
  } else {
    const std::string text = fs::exists(log) ? read_text(log) : "";
    error = fmt::format("{} exited with status {} ({})", *program, rc,
                        text.empty() ? "no output" : text.substr(0, text.find('\n')));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return out;
}

}  // namespace lrb::report_detail
