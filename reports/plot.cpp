#include "reports/plot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "core/csv.h"
#include "core/fs.h"

namespace lrb::report_detail {

namespace fs = std::filesystem;

namespace {

std::string gnuplot_script(const std::vector<SweepSeries>& series, const std::string& title, const std::string& param,
                           const std::string& terminal, const std::string& png) {
  // eps values such as 4/255 read better as 4 than as 0.0156862745098039.
  const bool eps = param == "eps";
  const double scale = eps ? 255.0 : 1.0;
  std::vector<std::string> metrics;
  for (const auto& s : series)
    if (std::find(metrics.begin(), metrics.end(), s.metric) == metrics.end()) metrics.push_back(s.metric);
  const int cols = static_cast<int>(std::min<size_t>(metrics.size(), 3));
  const int rows = static_cast<int>((metrics.size() + cols - 1) / cols);

  std::string gp = fmt::format("set terminal {} size {},{} noenhanced\nset output {}\n", terminal, 760 * cols,
                               420 * rows + 40, gp_string(png));
  for (size_t i = 0; i < series.size(); ++i) {
    gp += fmt::format("$s{} << EOD\n", i);
    for (const auto& p : series[i].points) gp += fmt::format("{:.10g} {:.4f}\n", p.x * scale, p.sum / p.count);
    gp += "EOD\n";
  }
  gp += fmt::format("set multiplot layout {},{} title {}\n", rows, cols, gp_string(title + ": accuracy vs " + param));
  gp += fmt::format("set grid\nset key outside right top vertical\nset yrange [0:*]\nset xlabel {}\nset ylabel 'accuracy (%)'\n",
                    gp_string(eps ? "eps x 255" : param));
  for (const auto& m : metrics) {
    std::vector<std::string> lines;
    for (size_t i = 0; i < series.size(); ++i)
      if (series[i].metric == m)
        lines.push_back(fmt::format("$s{} using 1:2 with linespoints lw 2 pt 7 title {}", i,
                                    gp_string(series[i].model + " " + series[i].algorithm)));
    gp += fmt::format("set title {}\nplot {}\n", gp_string(m), fmt::join(lines, ", \\\n     "));
  }
  return gp + "unset multiplot\nunset output\n";
}

// Runs gnuplot into a temp PNG beside the target and renames it, so a failed plot leaves nothing.
std::optional<std::string> plot_png(const std::string& program, const std::vector<SweepSeries>& series,
                                    const std::string& title, const std::string& param, const std::string& png,
                                    std::string& error) {
  const std::string tag = fmt::format("{}", ::getpid());
  const std::string tmp_png = png + ".tmp." + tag;
  // Script and log in a private folder (mkdtemp, mode 0700): a predictable name in the shared temp folder could be
  // a symlink another user planted, and the shell's '>' would follow it.
  std::string templ = (fs::temp_directory_path() / "lrb-plot-XXXXXX").string();
  if (!::mkdtemp(templ.data())) {
    error = fmt::format("cannot create a temporary folder under {}", fs::temp_directory_path().string());
    return std::nullopt;
  }
  const fs::path dir = templ;
  const std::string script = (dir / "plot.gp").string();
  const std::string log = (dir / "gnuplot.log").string();
  std::error_code ec;
  struct RemoveDir {
    fs::path d;
    ~RemoveDir() {
      std::error_code e;
      fs::remove_all(d, e);
    }
  } cleanup{dir};
  // pngcairo draws better; plain png (libgd) is the fallback on gnuplot builds without cairo.
  for (const char* terminal : {"pngcairo", "png"}) {
    write_text_atomic(script, gnuplot_script(series, title, param, terminal, tmp_png));
    const std::string cmd =
        fmt::format("{} {} >{} 2>&1", shell_quote(program), shell_quote(script), shell_quote(log));
    int rc = std::system(cmd.c_str());
    if (rc == 0 && fs::exists(tmp_png) && fs::file_size(tmp_png, ec) > 0) {
      fs::rename(tmp_png, png);
      fs::remove(script, ec), fs::remove(log, ec);
      return png;
    }
    std::string text = fs::exists(log) ? read_text(log) : "";
    error = fmt::format("{} exited with status {} ({})", program, rc,
                        text.empty() ? "no output" : text.substr(0, text.find('\n')));
    fs::remove(tmp_png, ec);
  }
  fs::remove(script, ec), fs::remove(log, ec);
  return std::nullopt;
}

}  // namespace

std::vector<SweepSeries> sweep_series(const std::vector<SweepSample>& samples) {
  std::vector<SweepSeries> out;
  for (const auto& s : samples) {
    if (out.empty() || out.back().model != s.model || out.back().algorithm != s.algorithm ||
        out.back().metric != s.metric)
      out.push_back({s.model, s.algorithm, s.metric, s.param, {}});
    auto& pts = out.back().points;
    if (pts.empty() || pts.back().x != s.x) pts.push_back({s.value, s.x});
    pts.back().sum += s.accuracy;
    ++pts.back().count;
  }
  return out;
}

std::optional<std::string> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<std::string>(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string gp_string(const std::string& s) {
  // Single quotes only double, and a line break would end the literal and make the rest of a run's text (a model
  // or seed field of an eval CSV) a gnuplot command, system() included: control characters become spaces.
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? std::string(" ") : std::string(1, c);
  return out + "'";
}

std::optional<std::string> threat_param(const std::string& threat_params, const std::string& key) {
  size_t start = 0;
  while (start <= threat_params.size()) {
    size_t end = threat_params.find(';', start);
    if (end == std::string::npos) end = threat_params.size();
    std::string item = threat_params.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq != std::string::npos && item.substr(0, eq) == key) return item.substr(eq + 1);
    start = end + 1;
  }
  return std::nullopt;
}

SweepOutput write_sweep(const std::string& out_dir, const std::string& name, const std::string& param,
                        const std::vector<SweepSample>& samples, const std::string& gnuplot) {
  SweepOutput out;
  const auto series = sweep_series(samples);
  const std::string stem = (fs::path(out_dir) / fmt::format("{}_{}", name, param)).string();

  CsvTable csv({"model", "algorithm", "metric", param, "accuracy", "seeds"});
  for (const auto& s : series)
    for (const auto& p : s.points)
      csv.add({s.model, s.algorithm, s.metric, p.value, fmt::format("{:.2f}", p.sum / p.count),
               std::to_string(p.count)});
  csv.save(stem + ".csv");
  out.written.push_back(stem + ".csv");

  auto program = find_program(gnuplot);
  if (!program) {
    out.notes.push_back(gnuplot.empty() ? "sweep plot disabled; wrote the CSV only"
                                        : fmt::format("'{}' not found on PATH; skipped {}.png", gnuplot, stem));
    return out;
  }
  std::string error;
  if (auto png = plot_png(*program, series, name, param, stem + ".png", error))
    out.written.push_back(*png);
  else
    out.notes.push_back(fmt::format("{}.png not written: {}", stem, error));
  return out;
}

}  // namespace lrb::report_detail
