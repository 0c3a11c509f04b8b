#include "reports/compare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/config.h"
#include "core/csv.h"
#include "core/errors.h"
#include "core/fs.h"
#include "reports/html_page.h"
#include "reports/svg_charts.h"

namespace lrb {

namespace fs = std::filesystem;
using report_detail::html_escape;

namespace compare_impl {  // named: reports/ builds as one unity file

struct Run {
  std::string path, label;
  std::map<std::string, std::string> config;  // flattened: "trainer.copies" -> "[100, 200]"
  nlohmann::json info;                        // run.json
  std::vector<std::array<double, 3>> curve;   // epoch, loss, test accuracy (%)
  std::map<std::string, double> acc;          // threat row -> accuracy (%)
  std::optional<double> clean;
};

void flatten(const NodePtr& n, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (n->kind == ConfigNode::Kind::kMap) {
    for (const auto& [k, v] : n->map) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (n->kind == ConfigNode::Kind::kSequence) {
    bool scalars = std::all_of(n->seq.begin(), n->seq.end(), [](const NodePtr& e) { return e->kind == ConfigNode::Kind::kScalar; });
    if (scalars) {
      std::vector<std::string> v;
      for (const auto& e : n->seq) v.push_back(e->scalar);
      out[prefix] = fmt::format("[{}]", fmt::join(v, ", "));
    } else {
      for (size_t i = 0; i < n->seq.size(); ++i) flatten(n->seq[i], fmt::format("{}[{}]", prefix, i), out);
    }
  } else {
    out[prefix] = n->kind == ConfigNode::Kind::kNull ? "null" : n->scalar;
  }
}

// Image budgets are multiples of 1/255: eps=0.03137254901960784 reads as eps=8/255.
std::string readable_params(const std::string& params) {
  std::string out;
  size_t start = 0;
  while (start <= params.size()) {
    const size_t end = std::min(params.find(';', start), params.size());
    std::string item = params.substr(start, end - start);
    if (auto eq = item.find('='); eq != std::string::npos) {
      char* stop = nullptr;
      const std::string value = item.substr(eq + 1);
      const double v = std::strtod(value.c_str(), &stop);
      const double k = v * 255;
      if (!value.empty() && *stop == '\0' && v > 0 && v < 1 && std::fabs(k - std::round(k)) < 1e-6)
        item = item.substr(0, eq + 1) + fmt::format("{}/255", static_cast<int>(std::round(k)));
    }
    out += (out.empty() ? "" : ";") + item;
    start = end + 1;
  }
  return out;
}

// "FGSM eps=8/255" from a result row; the clean row is "clean".
std::string threat_label(const std::string& metric, const std::string& params, const std::string& mode) {
  std::string s = metric == "Ori" ? "clean" : metric;
  if (!params.empty()) s += " " + readable_params(params);
  if (!mode.empty() && mode != "white-box") s += " (" + mode + ")";
  return s;
}

std::optional<double> parse_number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

Run load(const std::string& dir, const std::string& suite, std::vector<std::string>& order) {
  Run r;
  r.path = dir;
  const fs::path d(dir);
  const auto cfg = d / "config.resolved.yaml";
  if (!fs::exists(cfg))
    throw ConfigError(dir, "not a run directory (no config.resolved.yaml; make one with lrbench train)");
  flatten(parse_yaml_file(cfg.string()), "", r.config);
  if (fs::exists(d / "run.json")) r.info = nlohmann::json::parse(read_text((d / "run.json").string()), nullptr, false);
  if (!r.info.is_object()) r.info = nlohmann::json::object();
  if (fs::exists(d / "metrics.csv")) {
    auto t = CsvTable::load((d / "metrics.csv").string());
    const auto& h = t.header();
    auto col = [&](const char* c) { return std::find(h.begin(), h.end(), c) - h.begin(); };
    const size_t e = col("epoch"), l = col("loss"), a = col("test_acc");
    for (const auto& row : t.rows()) {
      auto x = e < row.size() ? parse_number(row[e]) : std::nullopt, y = l < row.size() ? parse_number(row[l]) : std::nullopt,
           z = a < row.size() ? parse_number(row[a]) : std::nullopt;
      if (x && y && z) r.curve.push_back({*x, *y, *z});
    }
  }
  std::vector<fs::path> csvs;
  if (!suite.empty()) {
    // A suite file's results are eval/<its name>.csv (its name: key, else the file's stem), a built-in's its name.
    std::string name = suite;
    if (std::error_code ec; fs::is_regular_file(suite, ec)) {
      name = fs::path(suite).stem().string();
      if (auto n = parse_yaml_file(suite)->get("name"); n && n->kind == ConfigNode::Kind::kScalar) name = n->scalar;
    }
    auto p = d / "eval" / (name + ".csv");
    if (!fs::exists(p))
      throw ConfigError(dir, fmt::format("no {} (evaluate it: lrbench eval {} --suite {})", p.string(), dir, suite));
    csvs.push_back(p);
  } else if (std::error_code ec; fs::is_directory(d / "eval", ec)) {
    for (const auto& e : fs::directory_iterator(d / "eval"))
      if (e.path().extension() == ".csv" && e.path().string().find(".transfer") == std::string::npos)
        csvs.push_back(e.path());
    std::sort(csvs.begin(), csvs.end());
  }
  for (const auto& p : csvs) {
    auto t = CsvTable::load(p.string());
    const auto& h = t.header();
    auto col = [&](const char* c) { return static_cast<size_t>(std::find(h.begin(), h.end(), c) - h.begin()); };
    const size_t m = col("metric"), a = col("accuracy"), tp = col("threat_params"), mo = col("mode");
    if (m >= h.size() || a >= h.size()) continue;  // not an eval CSV
    for (const auto& row : t.rows()) {
      const auto label = threat_label(row[m], tp < row.size() ? row[tp] : "", mo < row.size() ? row[mo] : "");
      if (!r.acc.count(label) && std::find(order.begin(), order.end(), label) == order.end()) order.push_back(label);
      const auto v = parse_number(row[a]);
      if (!v) throw ConfigError(p.string(), fmt::format("accuracy '{}' of row '{}' is not a number", row[a], label));
      r.acc[label] = *v;
      if (label == "clean") r.clean = r.acc[label];
    }
  }
  if (!r.clean && r.info.contains("final_test_acc") && r.info["final_test_acc"].is_number())
    r.clean = r.info["final_test_acc"].get<double>();
  return r;
}

// Short, unique labels: the folder's name, with its parent's where two runs share one.
void label_runs(std::vector<Run>& runs) {
  std::map<std::string, int> seen;
  auto clean_path = [](const std::string& s) {
    auto p = fs::path(s).lexically_normal();
    return p.filename().empty() ? p.parent_path() : p;  // "a/x/" is "a/x"
  };
  for (const auto& r : runs) seen[clean_path(r.path).filename().string()]++;
  for (auto& r : runs) {
    const auto p = clean_path(r.path);
    r.label = seen[p.filename().string()] > 1 ? (p.parent_path().filename() / p.filename()).string()
                                              : p.filename().string();
  }
}

struct Tables {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> config, threats, time;
};

std::string number(const nlohmann::json& j, const char* key, const char* fmtstr) {
  return j.contains(key) && j[key].is_number() ? fmt::format(fmt::runtime(fmtstr), j[key].get<double>()) : "";
}

Tables build(const std::vector<Run>& runs, const std::vector<std::string>& order) {
  Tables t;
  t.header.push_back("");
  for (const auto& r : runs) t.header.push_back(r.label);
  std::set<std::string> keys;
  for (const auto& r : runs)
    for (const auto& [k, v] : r.config) keys.insert(k);
  for (const auto& k : keys) {
    std::set<std::string> values;
    std::vector<std::string> row{k};
    for (const auto& r : runs) {
      auto it = r.config.find(k);
      row.push_back(it == r.config.end() ? "—" : it->second);
      values.insert(row.back());
    }
    if (values.size() > 1) t.config.push_back(row);
  }
  for (const auto& label : order) {
    std::vector<std::string> row{label};
    for (const auto& r : runs) {
      auto it = r.acc.find(label);
      if (it == r.acc.end()) {
        row.push_back("—");
      } else if (label != "clean" && r.clean && *r.clean > 0) {
        row.push_back(fmt::format("{:.2f} ({:.2f})", it->second, it->second / *r.clean));
      } else {
        row.push_back(fmt::format("{:.2f}", it->second));
      }
    }
    t.threats.push_back(row);
  }
  if (order.empty()) {  // no eval CSVs: the final test accuracy of each run
    std::vector<std::string> row{"clean (final test accuracy)"};
    for (const auto& r : runs) row.push_back(r.clean ? fmt::format("{:.2f}", *r.clean) : "—");
    t.threats.push_back(row);
  }
  auto add = [&](const std::string& name, auto f) {
    std::vector<std::string> row{name};
    for (const auto& r : runs) row.push_back(f(r));
    t.time.push_back(row);
  };
  add("status", [](const Run& r) { return r.info.value("status", std::string("—")); });
  add("training seconds", [](const Run& r) { return number(r.info, "seconds", "{:.1f}"); });
  add("epochs", [](const Run& r) { return r.curve.empty() ? std::string("—") : fmt::format("{:g}", r.curve.back()[0]); });
  add("seconds per epoch", [](const Run& r) {
    return r.curve.empty() || !r.info.contains("seconds") || !r.info["seconds"].is_number()
               ? std::string("—")
               : fmt::format("{:.1f}", r.info["seconds"].get<double>() / r.curve.back()[0]);
  });
  add("git commit", [](const Run& r) { return r.info.value("git_commit", std::string("—")); });
  return t;
}

std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size(), 0);
  auto fit = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], std::min<size_t>(row[i].size(), 48));
  };
  fit(header);
  for (const auto& r : rows) fit(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      auto cell = row[i].size() > 48 ? row[i].substr(0, 45) + "..." : row[i];
      out += i == 0 ? fmt::format("  {:<{}}", cell, w[i]) : fmt::format("  {:>{}}", cell, w[i]);
    }
    out += "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string md_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  auto esc = [](std::string s) {
    for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
    return s;
  };
  std::string out = "|";
  for (const auto& h : header) out += " " + esc(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < header.size(); ++i) out += i == 0 ? "---|" : "---:|";
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (const auto& c : r) out += " " + esc(c) + " |";
    out += "\n";
  }
  return out;
}

std::string html_table(const std::string& id, const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  std::string out = fmt::format("<div class=\"scroll\"><table id=\"{}\"><thead><tr>", id);
  for (const auto& h : header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    out += "<tr>";
    for (size_t i = 0; i < r.size(); ++i)
      out += fmt::format("<{0}{1}>{2}</{0}>", i == 0 ? "th" : "td", i == 0 ? "" : " class=\"num\"", html_escape(r[i]));
    out += "</tr>";
  }
  return out + "</tbody></table></div>\n";
}

constexpr const char* kStyle = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1240px;padding:0 1.2em 3em;color:#1d2330}
h1{font-size:1.4em}h2{margin-top:1.6em;border-bottom:1px solid #ccd}.sub{color:#556}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d5d8e0;padding:.3em .55em;white-space:nowrap}thead th{background:#f2f4f8}
tbody th{position:sticky;left:0;background:#fff;text-align:left;font-weight:500}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts figure{margin:0;flex:1 1 460px;max-width:600px}
figure svg{width:100%;height:auto;border:1px solid #eef}figcaption{font-weight:600}
)css";


}  // namespace compare_impl

int run_compare(const CompareOptions& opt, std::ostream& out) {
  using namespace compare_impl;
  if (opt.runs.size() < 2) throw ConfigError("lrbench compare", "give at least two run directories");
  if (!opt.out_dir.empty()) require_writable_output(opt.out_dir, "--out", OutputKind::kDirectory);
  std::vector<std::string> order;
  std::vector<Run> runs;
  for (const auto& r : opt.runs) runs.push_back(load(r, opt.suite, order));
  std::stable_partition(order.begin(), order.end(), [](const std::string& s) { return s == "clean"; });
  label_runs(runs);
  auto t = build(runs, order);
  const char* retention = "accuracy % (retention: robust / clean accuracy of the same run)";
  std::string legend;
  for (const auto& r : runs) legend += fmt::format("  {} = {}\n", r.label, r.path);
  out << "runs:\n" << legend << "\nconfig keys that differ:\n"
      << (t.config.empty() ? "  none\n" : text_table(t.header, t.config)) << "\n" << retention << ":\n"
      << text_table(t.header, t.threats) << "\ntime:\n" << text_table(t.header, t.time);
  if (opt.out_dir.empty()) return 0;
  fs::create_directories(opt.out_dir);
  std::string md = "# lrbench compare\n\n";
  for (const auto& r : runs) md += fmt::format("- **{}**: `{}`\n", r.label, r.path);
  md += "\n## Config keys that differ\n\n" + (t.config.empty() ? std::string("none\n") : md_table(t.header, t.config)) +
        "\n## Accuracy\n\n" + std::string(retention) + "\n\n" + md_table(t.header, t.threats) + "\n## Time\n\n" +
        md_table(t.header, t.time);
  write_text_atomic((fs::path(opt.out_dir) / "compare.md").string(), md);

  // Curves overlaid: one series per run.
  std::string charts_html;
  if (!opt.gnuplot.empty()) {
    report_detail::Chart acc{"test accuracy per epoch", "epoch", "accuracy (%)", {}, true, true};
    report_detail::Chart loss{"training loss per epoch", "epoch", "loss", {}, false, true};
    for (size_t i = 0; i < runs.size(); ++i) {
      report_detail::ChartSeries a{runs[i].label, {}, static_cast<int>(i % 8) + 1, 1}, l = a;
      for (const auto& p : runs[i].curve) a.xy.emplace_back(p[0], p[2]), l.xy.emplace_back(p[0], p[1]);
      acc.series.push_back(a);
      loss.series.push_back(l);
    }
    std::string error;
    if (auto svgs = report_detail::render_svg_charts(opt.gnuplot, {acc, loss}, "cmp", error)) {
      charts_html = "<div class=\"charts\">";
      for (size_t i = 0; i < svgs->size(); ++i)
        charts_html += fmt::format("<figure class=\"plot\"><figcaption>{}</figcaption>{}</figure>",
                                   i == 0 ? acc.title : loss.title, (*svgs)[i]);
      charts_html += "</div>\n";
    } else {
      charts_html = "<p class=\"sub\">No curves: " + html_escape(error) + "</p>\n";
    }
  }
  std::string runs_html = "<ul>";
  for (const auto& r : runs)
    runs_html += fmt::format("<li><b>{}</b>: <code>{}</code></li>", html_escape(r.label), html_escape(r.path));
  runs_html += "</ul>\n";
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>lrbench compare</title>\n"
      "<style>{}</style>\n</head>\n<body>\n<h1>lrbench compare</h1>\n{}"
      "<h2>Config keys that differ</h2>\n{}<h2>Accuracy</h2>\n<p class=\"sub\">{}</p>\n{}"
      "<h2>Training curves</h2>\n{}<h2>Time</h2>\n{}<script>{}</script>\n</body>\n</html>\n",
      kStyle, runs_html,
      t.config.empty() ? std::string("<p>none</p>\n") : html_table("config-diff", t.header, t.config), retention,
      html_table("accuracy-table", t.header, t.threats), charts_html, html_table("time-table", t.header, t.time),
      report_detail::page_script());
  write_text_atomic((fs::path(opt.out_dir) / "compare.html").string(), html);
  out << "\n-> " << (fs::path(opt.out_dir) / "compare.md").string() << ", "
      << (fs::path(opt.out_dir) / "compare.html").string() << "\n";
  return 0;
}

}  // namespace lrb
