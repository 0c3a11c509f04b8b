#include "reports/html_page.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace lrb::report_detail {

namespace {

constexpr const char* kStyle = R"css(
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 1.5em 4em;color:#1d2330}
h1{font-size:1.5em;margin:1em 0 .2em}h2{margin-top:2em;border-bottom:1px solid #ccd;padding-bottom:.2em}
nav{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #eef;z-index:1}
nav a{margin-right:1em}a{color:#2553a8}.sub{color:#556}
table{border-collapse:collapse;margin:.6em 0}.scroll{overflow-x:auto;max-width:100%}
#results-table tbody th:first-child,#results-table thead th:first-child{position:sticky;left:0;z-index:1}
#results-table tbody th:first-child{background:#fff}td.reversed{background:#fff4df;outline:2px solid #e08a00}
td.reversed .ours::after{content:" ⇄";color:#b35900}.banner{background:#fde4e4;border:2px solid #c62828;padding:.5em 1em}th,td{border:1px solid #d5d8e0;padding:.3em .55em;vertical-align:top}
th{background:#f2f4f8;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.cell{text-align:right;font-variant-numeric:tabular-nums;min-width:8em}
td.cell .ours{font-weight:600;font-size:1.05em}td.cell .sd{color:#667;font-weight:400}
td.cell .paper,td.cell .runs{display:block;color:#556;font-size:.85em}
td.off{background:#fff4df}td.off .delta{color:#b35900;font-weight:600}
td.regressed{background:#fde4e4;outline:2px solid #c62828}td.missing{color:#889;text-align:center}
td.uninformative{opacity:.35;background:#eee}ul.masking li{margin:.2em 0}
body.only-marked td.cell:not(.off):not(.regressed):not(.reversed){opacity:.2}
.legend span{display:inline-block;padding:0 .5em;margin-right:.6em;border:1px solid #d5d8e0}
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts figure{margin:0;flex:1 1 460px;max-width:560px}
figure svg{width:100%;height:auto;border:1px solid #eef}figcaption{font-weight:600;margin:.3em 0}
pre{background:#f6f7fa;padding:.6em;overflow:auto;font-size:12px}
pre.pass{border-left:4px solid #2e7d32}pre.fail{border-left:4px solid #c62828;background:#fdf0f0}
details{margin:.3em 0}.card{border:1px solid #d5d8e0;padding:.2em .9em .6em;margin:.8em 0}
.card table td:first-child{color:#556;white-space:nowrap}.notes li{color:#6a4a00}
)css";

// The checkbox toggles a class. data-plots-drawn (plots laid out with a size and a drawn path) and data-ready
// (the script ran to its end) let a headless browser test see what a reader would.
constexpr const char* kScript = R"js(
(function () {
  var box = document.getElementById('only-marked');
  if (box) box.addEventListener('change', function () { document.body.classList.toggle('only-marked', box.checked); });
  var drawn = 0;
  document.querySelectorAll('figure.plot svg').forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && svg.querySelector('path')) drawn++;
  });
  document.body.setAttribute('data-plots-drawn', String(drawn));
  document.body.setAttribute('data-ready', '1');
})();
)js";

std::string pct(const Stats& st) {
  return st.std ? fmt::format("{:.2f}<span class=\"sd\"> ± {:.2f}</span>", st.mean, *st.std) : fmt::format("{:.2f}", st.mean);
}

}  // namespace

const char* page_script() { return kScript; }

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

HtmlPage::HtmlPage(const ReportSpec& spec, const Gathered& g, const ReportResult& res,
                   const std::vector<CheckResult>& checks, double paper_tolerance)
    : spec_(spec), g_(g), res_(res), checks_(checks), tolerance_(paper_tolerance), near_chance_(near_chance_rows(spec, g)),
      reversed_(reversed_cells(spec, g, &comparable_)) {
  // A sweep value's offender (rate=0.3) marks the averaged cell it belongs to.
  for (const auto& c : checks_)
    for (const auto& f : c.offenders)
      regressed_[Key{f.cell.model, row_label(f.cell.algorithm, f.cell.mode), f.cell.metric}].push_back(fmt::format(
          "{}{}: expected {:.2f} ± {:.2f}, got {}", c.label,
          f.cell.threat_params.empty() ? "" : " (" + f.cell.threat_params + ")", f.cell.expected, f.cell.tolerance,
          f.got ? fmt::format("{:.2f}", *f.got) : "nothing"));
}

void HtmlPage::section(const std::string& id, const std::string& heading) {
  nav_.emplace_back(id, heading);
  body_ += fmt::format("\n<h2 id=\"{}\">{}</h2>\n", id, html_escape(heading));
}

void HtmlPage::table(const RunLinks& links) {
  section("results", "Results");
  std::string rows;
  for (const auto& m : spec_.models)
    for (const auto& [label, base, mode] : row_algorithms(spec_, g_)) {
      std::string tds;
      bool any = false;
      for (const auto& c : spec_.columns) {
        const Key key{m, label, c};
        auto cell = g_.cells.find(key);
        auto paper = g_.paper.find(key);
        auto reg = regressed_.find(key);
        any |= cell != g_.cells.end();
        std::vector<std::string> cls{"cell"}, tip;
        if (c != spec_.columns.front() && near_chance_.count({m, label}))
          cls.push_back("uninformative"), tip.push_back("clean accuracy within 5 pp of chance: no information");
        if (reg != regressed_.end()) cls.push_back("regressed"), ++regressed_cells_, tip = reg->second;
        if (auto rv = reversed_.find(key); rv != reversed_.end()) cls.push_back("reversed"), tip.push_back(rv->second.text());
        if (cell == g_.cells.end()) {
          const std::string title = html_escape(fmt::format("{}", fmt::join(tip, "\n")));
          tds += fmt::format("<td class=\"{} missing\"{}>—</td>", fmt::join(cls, " "),
                             title.empty() ? "" : " title=\"" + title + "\"");
          continue;
        }
        const Stats st = stats(cell->second);
        std::string paper_text;
        if (paper != g_.paper.end()) {
          const double d = st.mean - paper->second.value;
          if (tolerance_ > 0 && std::fabs(d) > tolerance_) cls.push_back("off"), ++off_;
          paper_text = fmt::format("<span class=\"paper\">paper {} · <span class=\"delta\">{}</span></span>",
                                   html_escape(paper->second.text), signed1(d));
        }
        tip.push_back("per seed: " + per_seed(cell->second));
        tip.push_back("n: " + join(cell->second.ns, " | "));
        if (const auto params = join(cell->second.params, " | "); !params.empty()) tip.push_back("threat: " + params);
        std::string run_links;
        for (const auto& [seed, anchor] : links(cell->second))
          run_links += fmt::format(" <a href=\"#{}\">{}</a>", anchor, html_escape(seed));
        tds += fmt::format("<td class=\"{}\" title=\"{}\"><span class=\"ours\">{}</span>{}<span class=\"runs\">seed{}</span></td>",
                           fmt::join(cls, " "), html_escape(fmt::format("{}", fmt::join(tip, "\n"))), pct(st),
                           paper_text, run_links);
      }
      if (any) rows += fmt::format("<tr><th>{}</th><th>{}</th>{}</tr>\n", html_escape(m), html_escape(label), tds);
    }
  const size_t total = spec_.models.size() * spec_.algorithms.size() * spec_.columns.size();
  body_ += fmt::format(
      "<p>Each cell: our accuracy (%), mean ± sample std over seeds; the paper's value and ours − paper; the runs "
      "behind it (click a seed for its provenance, hover for every seed's value). {} of {} cells have a result.</p>\n"
      "<p>{}</p>\n<p class=\"legend\"><span style=\"background:#fff4df;outline:2px solid #e08a00\">⇄ reversed "
      "against BP: {}</span>{}<span style=\"background:#fde4e4\">outside a check's tolerance: {}</span>"
      "<label><input type=\"checkbox\" id=\"only-marked\"> show only marked cells</label></p>\n",
      total - static_cast<size_t>(res_.cells_missing), total, html_escape(reversal_legend(reversed_.size(), comparable_)),
      reversed_.size(),
      tolerance_ > 0 ? fmt::format("<span class=\"off\" style=\"background:#fff4df\">|ours − paper| &gt; {:.1f} pp "
                                   "(--mark-paper): {}</span>",
                                   tolerance_, off_)
                     : std::string(),
      regressed_cells_);
  body_ += fmt::format("<div class=\"scroll\"><table id=\"results-table\"><thead><tr><th>Model</th><th>Algorithm</th>{}</tr></thead>\n<tbody>\n{}</tbody></table></div>\n",
                       [&] {
                         std::string h;
                         for (const auto& c : spec_.columns) h += "<th>" + html_escape(c) + "</th>";
                         return h;
                       }(),
                       rows);
  if (has_mode(g_, "matched to")) body_ += "<p>" + html_escape(kMatchedRowsNote) + "</p>\n";
  if (has_mode(g_, "transfer"))
    body_ += "<p>Rows \"ALG (transfer from SRC)\": transfer (black-box) attacks, crafted on the SRC model of the same "
             "model, dataset and seed (<code>lrbench eval RUN --source SRC_RUN</code>) and scored on ALG's model; the "
             "paper has no such rows. Where white-box and transfer accuracy differ much, the white-box number measures "
             "the gradient the attack got, not the model (gradient masking). What they show:</p>\n<ul>\n" +
             [&] {
               std::string items;
               for (const auto& f : transfer_findings(spec_, g_)) items += "<li>" + html_escape(f) + "</li>\n";
               return items;
             }() + "</ul>\n";
}

void HtmlPage::text_attacks() {
  const auto all = text_attack_rows(spec_, g_);
  if (all.empty()) return;
  // 1 - ASR only beside attacks run on every example (OpenAttack's count), as the Markdown.
  const bool oa = std::any_of(all.begin(), all.end(), [](const TextAttackRow& r) { return r.one_minus_asr.has_value(); });
  std::string rows;
  for (const auto& r : all)
    rows += fmt::format("<tr><th>{}</th><th>{}</th><th>{}</th><td class=\"num\">{:.2f}</td><td class=\"num\">{:.2f}"
                        "</td>{}<td class=\"num\">{:.2f}</td><td class=\"num\">{:.1f}</td></tr>\n",
                        html_escape(r.model), html_escape(r.algorithm), html_escape(r.attack), r.accuracy,
                        r.success_rate,
                        !oa ? "" : fmt::format("<td class=\"num\">{}</td>", r.one_minus_asr ? fmt::format("{:.2f}", *r.one_minus_asr) : "—"),
                        r.words_changed_pct, r.queries_per_example);
  section("text-attacks", "Text attacks: TextAttack's summary");
  body_ += "<p>" + std::string(kTextAttackSummaryNote) + "</p>\n<div class=\"scroll\"><table "
           "id=\"text-attacks\"><thead><tr><th>Model</th><th>Algorithm</th><th>Attack</th><th>Accuracy under attack "
           "(%)</th><th>Attack success rate (%)</th>" + std::string(oa ? "<th>1 − ASR (%)</th>" : "") +
           "<th>Words changed (%)</th><th>Queries / example</th></tr></thead><tbody>\n" + rows + "</tbody></table></div>\n";
}

void HtmlPage::masking() {
  section("masking", "Gradient-masking checks");
  const auto findings = masking_findings(spec_, g_);
  body_ += "<p>" + html_escape(masking_legend()) + "</p>\n";
  if (findings.empty()) {
    body_ += "<p class=\"masking-none\">No check triggered on any cell.</p>\n";
    return;
  }
  body_ += "<ul class=\"masking\">\n";
  for (const auto& f : findings)
    body_ += fmt::format("<li data-check=\"{}\"><b>check {}</b>: {}</li>\n", f.check, f.check, html_escape(f.text));
  body_ += "</ul>\n";
}

void HtmlPage::checks() {
  if (checks_.empty()) return;
  section("checks", "Checks");
  for (const auto& c : checks_)
    body_ += fmt::format("<pre class=\"{}\">{}</pre>\n", c.ok() ? "pass" : "fail", html_escape(format_check(c)));
}

void HtmlPage::sweeps(const std::vector<std::string>& svgs, size_t expected) {
  const std::string names = fmt::format("{}", fmt::join(swept_settings(spec_, g_), ", "));
  section("sweep", "Accuracy vs " + names);
  body_ += fmt::format("<p>Mean over seeds at each {}; the table's sweep-averaged columns are the mean of these points.</p>\n",
                       html_escape(names));
  if (svgs.size() != expected) {
    body_ += "<p>Not drawn (see the notes at the end); the values are in the long CSV.</p>\n";
    return;
  }
  body_ += "<div class=\"charts\">\n";
  for (const auto& s : svgs) body_ += "<figure class=\"plot sweep\">" + s + "</figure>\n";
  body_ += "</div>\n";
}

void HtmlPage::curves(const std::vector<Curves>& curves) {
  section("curves", "Training curves");
  body_ += "<p>Per epoch, from each run's <code>metrics.csv</code>: accuracy on the test split (solid), the training "
           "batches (dashed) and the validation split where there is one (dotted); one colour per seed.</p>\n";
  for (const auto& c : curves) {
    body_ += fmt::format("<h3>{}</h3>\n<div class=\"charts\">\n", html_escape(c.title));
    for (const auto* svg : {&c.accuracy_svg, &c.loss_svg})
      body_ += svg->empty() ? "<p>Not drawn (see the notes at the end).</p>\n"
                            : "<figure class=\"plot curve\">" + *svg + "</figure>\n";
    body_ += "</div>\n";
  }
}

void HtmlPage::method_notes() {
  if (spec_.notes.find_first_not_of(" \n\t") == std::string::npos) return;
  section("method", "Method notes");
  body_ += "<p style=\"white-space:pre-line\">" + html_escape(spec_.notes) + "</p>\n";
}

void HtmlPage::times(std::optional<double> wall_seconds) {
  section("times", "Time per run");
  body_ += "<table><thead><tr><th>Run</th><th>Epochs</th><th>Training s</th><th>Eval s</th><th>Sweep s</th></tr></thead><tbody>\n";
  double total = 0;
  for (const auto& [name, t] : g_.times) {
    body_ += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                         html_escape(name), t.epochs ? std::to_string(*t.epochs) : "—", opt_seconds(t.train),
                         opt_seconds(t.eval), opt_seconds(t.sweep));
    total += t.train.value_or(0) + t.eval.value_or(0) + t.sweep.value_or(0);
  }
  body_ += fmt::format("</tbody></table>\n<p>Sum over runs: {:.1f} min.{}</p>\n", total / 60,
                       wall_seconds ? fmt::format(" Wall time of the make target that wrote the report: {:.1f} min.", *wall_seconds / 60) : "");
}

void HtmlPage::provenance(const std::vector<RunCard>& runs, const std::vector<std::string>& notes) {
  section("provenance", "Provenance");
  body_ += fmt::format("<p>Runs under <code>{}</code>: every number above comes from one of these run directories "
                       "(its <code>eval/{}.csv</code>). Rerun one with <code>lrbench train RUN/config.resolved.yaml</code>.</p>\n",
                       html_escape(g_.root.string()), html_escape(spec_.suite));
  if (const auto lines = protocol_lines(spec_, g_); !lines.empty()) {
    body_ += "<p>Protocol choices the paper leaves open (each run's config.resolved.yaml, or the setting's default "
             "where it does not set the key; a key only some trainers read is listed for their runs):</p>\n<ul>\n";
    for (const auto& l : lines) body_ += "<li>" + html_escape(l) + "</li>\n";
    body_ += "</ul>\n";
  }
  for (const auto& r : runs) {
    body_ += fmt::format("<div class=\"card\" id=\"{}\"><h3>{} · {} · seed {}</h3>\n<p><code>{}</code></p>\n<table>\n",
                         r.anchor, html_escape(r.model), html_escape(r.algorithm), html_escape(r.seed), html_escape(r.path));
    for (const auto& [k, v] : r.fields)
      body_ += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", html_escape(k), html_escape(v));
    body_ += "</table>\n";
    if (!r.config.empty())
      body_ += "<details><summary>config.resolved.yaml</summary><pre>" + html_escape(r.config) + "</pre></details>\n";
    body_ += "</div>\n";
  }
  if (notes.empty()) return;
  section("notes", "Notes");
  body_ += "<ul class=\"notes\">\n";
  for (const auto& n : notes) body_ += "<li>" + html_escape(n) + "</li>\n";
  body_ += "</ul>\n";
}

std::string HtmlPage::finish() const {
  std::set<std::string> commits, datasets;
  for (const auto& [key, cell] : g_.cells)
    commits.insert(cell.commits.begin(), cell.commits.end()), datasets.insert(cell.datasets.begin(), cell.datasets.end());
  std::string nav;
  for (const auto& [id, heading] : nav_) nav += fmt::format("<a href=\"#{}\">{}</a>", id, html_escape(heading));
  std::string head = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n"
      "</head>\n<body data-report=\"{}\">\n<h1>{}</h1>\n<p class=\"sub\">lrbench report <code>{}</code> · commit(s) {} · "
      "dataset: {}</p>\n{}<nav>{}</nav>\n",
      html_escape(spec_.title), kStyle, html_escape(spec_.name), html_escape(spec_.title), html_escape(spec_.name),
      html_escape(join(commits, ", ")), html_escape(join(datasets, " | ")),
      [&] {
        const auto dirty = dirty_commits(g_);
        return dirty.empty() ? std::string()
                             : "<p class=\"banner\" id=\"dirty\"><b>Not traceable to a commit</b>: these results were "
                               "produced by a build of a working tree with uncommitted changes (" +
                                   html_escape(fmt::format("{}", fmt::join(dirty, ", "))) + "). Rerun from a clean checkout before citing them.</p>\n";
      }(),
      nav);
  return head + body_ + "\n<script>" + kScript + "</script>\n</body>\n</html>\n";
}

}  // namespace lrb::report_detail
