#include "reports/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "reports/conclusions.h"
#include "reports/gather.h"
#include "reports/marks.h"
#include "reports/masking.h"

namespace lrb {

namespace fs = std::filesystem;
using namespace report_detail;

ReportSpec ReportSpec::load(const std::string& yaml_path) {
  Config c(parse_yaml_file(yaml_path), "");
  ReportSpec s;
  s.name = fs::path(yaml_path).stem().string();
  s.title = c.require<std::string>("title");
  s.suite = c.require<std::string>("suite");
  s.models = c.require<std::vector<std::string>>("models");
  s.algorithms = c.require<std::vector<std::string>>("algorithms");
  s.columns = c.require<std::vector<std::string>>("columns");
  if (c.read("paper", s.paper_csv) && fs::path(s.paper_csv).is_relative())
    s.paper_csv = (fs::path(yaml_path).parent_path() / s.paper_csv).lexically_normal().string();
  c.read("sweep", s.sweep_param);
  c.read("sweep_mean", s.sweep_mean);
  auto sweep_params = c.sub("sweep_params");
  for (const auto& col : sweep_params.keys()) {
    if (s.sweep_param.empty()) sweep_params.fail(col, "needs the sweep key (the other columns' parameter)", "sweep: eps");
    if (std::find(s.columns.begin(), s.columns.end(), col) == s.columns.end())
      sweep_params.fail(col, "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")));
    sweep_params.read(col, s.sweep_params[col]);
  }
  for (const auto& m : s.sweep_mean) {
    if (s.sweep_param.empty()) c.fail("sweep_mean", "needs the sweep key (the parameter averaged over)", "sweep: rate", m);
    if (std::find(s.columns.begin(), s.columns.end(), m) == s.columns.end())
      c.fail("sweep_mean", "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")), m);
  }
  c.read("notes", s.notes);
  c.read("chance", s.chance, Range::between(0.0, 100.0));
  c.read("test_examples", s.test_examples, Range::at_least(0));
  c.read("controls", s.controls);
  auto paper_examples = c.sub("paper_examples");
  for (const auto& col : paper_examples.keys()) {
    if (std::find(s.columns.begin(), s.columns.end(), col) == s.columns.end())
      paper_examples.fail(col, "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")));
    paper_examples.read(col, s.paper_examples[col], Range::at_least(1));
  }
  auto in = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const auto& pc : c.list("protocol"))
    s.protocol.push_back({pc.require<std::string>("what"), pc.require<std::string>("key"), [&] {
                            std::string d;
                            pc.read("default", d);
                            return d;
                          }()});
  if (c.has("schedule")) {
    auto sc = c.sub("schedule");
    Schedule sched;
    sched.epochs = sc.require<int64_t>("epochs", Range::at_least(1));
    sc.read("train_examples", sched.train_examples, Range::at_least(0));
    sched.source = sc.require<std::string>("source");
    sc.reject_unread_keys();
    s.schedule = sched;
  }
  for (const auto& cl : c.list("claims")) {
    ClaimSpec claim;
    claim.says = cl.require<std::string>("says");
    claim.value = cl.require<double>("value");
    cl.read("value", claim.value_text);
    claim.algorithm = cl.require<std::string>("algorithm");
    cl.read("baseline", claim.baseline);
    cl.read("models", claim.models);
    claim.columns = cl.require<std::vector<std::string>>("columns");
    for (const auto* key : {"algorithm", "baseline"}) {
      const auto& name = std::string(key) == "algorithm" ? claim.algorithm : claim.baseline;
      if (!in(s.algorithms, name))
        cl.fail(key, "not one of the report's algorithms", fmt::format("one of {}", fmt::join(s.algorithms, ", ")), name);
    }
    if (claim.algorithm == claim.baseline)
      cl.fail("baseline", "the same as the claim's algorithm", "another of the report's algorithms", claim.baseline);
    for (const auto& m : claim.models)
      if (!in(s.models, m)) cl.fail("models", "not one of the report's models", fmt::format("one of {}", fmt::join(s.models, ", ")), m);
    if (claim.columns.empty()) cl.fail("columns", "empty list", "at least one of the report's columns");
    for (const auto& col : claim.columns)
      if (!in(s.columns, col))
        cl.fail("columns", "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")), col);
    cl.read("ours_on", claim.ours_on);
    if (!claim.ours_on.empty() && claim.ours_on.size() != claim.columns.size())
      cl.fail("ours_on", "not one of our columns for each of the claim's columns",
              fmt::format("{} column(s)", claim.columns.size()), fmt::format("{}", claim.ours_on.size()));
    for (const auto& col : claim.ours_on)
      if (!in(s.columns, col))
        cl.fail("ours_on", "not one of the report's columns", fmt::format("one of {}", fmt::join(s.columns, ", ")), col);
    if (claim.models.empty()) claim.models = s.models;
    cl.reject_unread_keys();
    s.claims.push_back(std::move(claim));
  }
  auto names = c.sub("algorithm_names");
  for (const auto& ours : names.keys()) {
    auto& paper = s.algorithm_names[ours];
    names.read(ours, paper);
    if (std::find(s.algorithms.begin(), s.algorithms.end(), paper) == s.algorithms.end() &&
        std::find(s.controls.begin(), s.controls.end(), paper) == s.controls.end())
      names.fail(ours, "not one of the report's algorithms or controls",
                 fmt::format("one of {}", fmt::join(s.algorithms, ", ")), paper);
  }
  for (const char* key : {"models", "algorithms", "columns"}) {
    std::vector<std::string> v;
    c.read(key, v);
    if (v.empty()) c.fail(key, "empty list", "at least one name");
  }
  c.reject_unread_keys();
  return s;
}

namespace report_detail {
std::string md_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += ' ';
    else if (c == '|' || c == '`') out += std::string("\\") + c;
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}
}  // namespace report_detail

namespace {
// The same inside a code span, where backslashes are literal: a backtick becomes a quote.
std::string md_code(const std::string& s) {
  std::string out = "`";
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c == '`' ? '\'' : c;
  return out + "`";
}
}  // namespace

namespace {


std::string cell_text(const Stats& st, const PaperValue* paper) {
  std::string ours = st.std ? fmt::format("{:.2f}±{:.2f}", st.mean, *st.std) : fmt::format("{:.2f}", st.mean);
  return paper ? fmt::format("{} ({}, {})", ours, paper->text, signed1(st.mean - paper->value)) : ours;
}

// TextAttack's attack summary beside robust accuracy, for every cell of a text attack.
std::string text_attack_summary(const ReportSpec& spec, const Gathered& g) {
  const auto rows = text_attack_rows(spec, g);
  if (rows.empty()) return "";
  // 1 - ASR only beside attacks run on every example (OpenAttack's count): a report without any keeps its columns.
  const bool oa = std::any_of(rows.begin(), rows.end(), [](const TextAttackRow& r) { return r.one_minus_asr.has_value(); });
  std::string out = "\n## Text attacks: TextAttack's summary\n\n" + std::string(kTextAttackSummaryNote) +
                    "\n\n| Model | Algorithm | Attack | Accuracy under attack (%) | Attack success rate (%) | " +
                    (oa ? "1 − ASR (%) | " : "") + "Words changed (%) | Queries / example |\n|---|---|---|---:|---:|" +
                    (oa ? "---:|" : "") + "---:|---:|\n";
  for (const auto& r : rows)
    out += fmt::format("| {} | {} | {} | {:.2f} | {:.2f} | {}{:.2f} | {:.1f} |\n", md_text(r.model), md_text(r.algorithm),
                       md_text(r.attack), r.accuracy, r.success_rate,
                       !oa ? "" : r.one_minus_asr ? fmt::format("{:.2f} | ", *r.one_minus_asr) : "— | ",
                       r.words_changed_pct, r.queries_per_example);
  return out;
}

std::string markdown(const ReportSpec& spec, const ReportOptions& opt, const Gathered& g,
                     const std::map<Key, PaperValue>& paper, const ReportResult& res,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& sweep_sections) {
  std::string md = fmt::format("# {}\n\n", spec.title);
  if (const auto dirty = dirty_commits(g); !dirty.empty())
    md += fmt::format("> **Not traceable to a commit**: these results were produced by a build of a working tree with "
                      "uncommitted changes ({}). Rerun from a clean checkout before citing them.\n\n",
                      fmt::join(dirty, ", "));
  size_t comparable = 0;
  const auto reversed = report_detail::reversed_cells(spec, g, &comparable);
  md += "Each cell: our accuracy (%), mean over seeds (±sample std when there are several), then in parentheses "
        "the paper's value and ours − paper. — = no result. " +
        report_detail::reversal_legend(reversed.size(), comparable) + "\n\n";
  md += fmt::format("| Model | Algorithm | {} |\n|---|---|", fmt::join(spec.columns, " | "));
  for (size_t i = 0; i < spec.columns.size(); ++i) md += "---:|";
  md += "\n";
  for (const auto& m : spec.models)
    for (const auto& [a, base, mode] : row_algorithms(spec, g)) {
      std::vector<std::string> row;
      bool any = false;
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        auto p = paper.find(Key{m, a, c});
        any |= it != g.cells.end();
        const PaperValue* pv = p == paper.end() ? nullptr : &p->second;
        row.push_back(it == g.cells.end() ? "—"
                                          : cell_text(stats(it->second), pv) + (reversed.count(Key{m, a, c}) ? " ⇄" : ""));
      }
      if (any) md += fmt::format("| {} | {} | {} |\n", md_text(m), md_text(a), fmt::join(row, " | "));
    }
  const size_t total = spec.models.size() * spec.algorithms.size() * spec.columns.size();
  md += fmt::format("\n{} of {} cells have a result.\n", total - res.cells_missing, total);
  if (has_mode(g, "matched to")) md += fmt::format("\n{}\n", kMatchedRowsNote);
  if (has_mode(g, "transfer"))
    md += "\nRows \"ALG (transfer from SRC)\": transfer (black-box) attacks, crafted on the SRC model of the same model, "
          "dataset and seed (`lrbench eval RUN --source SRC_RUN`) and scored on ALG's model; the paper has no such "
          "rows. Where white-box and transfer accuracy differ much, the white-box number measures the gradient the "
          "attack got, not the model (gradient masking). What they show:\n\n" +
          [&] {
            std::string items;
            for (const auto& f : transfer_findings(spec, g)) items += "- " + f + "\n";
            return items;
          }();

  const auto claims = claim_rows(spec, g);
  md += claims_markdown(claims);
  md += retention_markdown(spec, g);
  md += text_attack_summary(spec, g);
  md += "\n## Gradient-masking checks\n\n" + masking_legend() + "\n\n";
  if (const auto findings = masking_findings(spec, g); findings.empty())
    md += "No check triggered on any cell.\n";
  else
    for (const auto& f : findings) md += fmt::format("- check {}: {}\n", f.check, f.text);

  for (const auto& [param, files] : sweep_sections) {
    if (files.empty()) continue;
    md += fmt::format("\n## Accuracy vs {}\n\n", param);
    for (const auto& f : files) {
      const std::string base = fs::path(f).filename().string();
      md += fs::path(f).extension() == ".png" ? fmt::format("![accuracy vs {}]({})\n", param, base)
                                              : fmt::format("Data: `{}`\n\n", base);
    }
  }

  std::set<std::string> datasets, commits;
  std::map<std::string, std::set<std::string>> params;
  for (const auto& [key, cell] : g.cells) {
    datasets.insert(cell.datasets.begin(), cell.datasets.end());
    commits.insert(cell.commits.begin(), cell.commits.end());
    params[std::get<2>(key)].insert(cell.params.begin(), cell.params.end());
  }
  md += fmt::format("\n## Provenance\n\n- Runs: {} ({} eval/{}.csv file(s))\n", md_code(g.root.string()),
                    g.found.suite.size(), spec.suite);
  for (const auto& d : datasets) md += fmt::format("- Dataset: {}\n", md_text(d));
  md += fmt::format("- Git commit(s): {}\n- Threat parameters (threat_params of the eval rows):\n",
                    md_text(join(commits, ", ")));
  for (const auto& c : spec.columns) {
    auto it = params.find(c);
    if (it == params.end()) continue;
    std::set<std::string> shown;
    for (const auto& p : it->second) shown.insert(p.empty() ? "(none)" : md_code(p));
    md += fmt::format("  - {}: {}{}\n", c, join(shown, " | "), shown.size() > 1 ? " (differs between runs)" : "");
  }
  if (const auto lines = protocol_lines(spec, g); !lines.empty()) {
    md += "- Protocol choices the paper leaves open (each run's config.resolved.yaml, or the setting's default where "
          "it does not set the key; a key only some trainers read is listed for their runs):\n";
    for (const auto& l : lines) md += fmt::format("  - {}\n", md_text(l));
  }
  for (const auto& n : res.notes) md += fmt::format("- Note: {}\n", md_text(n));
  const auto notes_end = spec.notes.find_last_not_of(" \n\t");
  if (notes_end != std::string::npos)
    md += fmt::format("\n### Method notes\n\n{}\n", spec.notes.substr(0, notes_end + 1));

  const bool sweep = std::any_of(g.times.begin(), g.times.end(), [](const auto& t) { return t.second.sweep; });
  md += fmt::format("\n### Time per cell\n\n| Cell | Epochs | Training s | Eval s |{}\n|---|---:|---:|---:|{}\n",
                    sweep ? " Sweep s |" : "", sweep ? "---:|" : "");
  std::optional<double> train, eval, sw;
  auto add = [](std::optional<double>& sum, const std::optional<double>& v) {
    if (v) sum = sum.value_or(0) + *v;
  };
  for (const auto& [name, t] : g.times) {
    md += fmt::format("| {} | {} | {} | {} |{}\n", md_text(name), t.epochs ? std::to_string(*t.epochs) : "—",
                      opt_seconds(t.train), opt_seconds(t.eval), sweep ? " " + opt_seconds(t.sweep) + " |" : "");
    add(train, t.train), add(eval, t.eval), add(sw, t.sweep);
  }
  md += fmt::format("| **Total** | | {} | {} |{}\n", opt_seconds(train), opt_seconds(eval),
                    sweep ? " " + opt_seconds(sw) + " |" : "");
  // A resumed invocation skips finished cells, so its wall time alone would understate what the table cost.
  const double cells = train.value_or(0) + eval.value_or(0) + sw.value_or(0);
  if (opt.wall_seconds && *opt.wall_seconds < 0.9 * cells)
    md += fmt::format("\nWall time of this `make {}`: {:.1f} min. It resumed cells trained or evaluated by an earlier "
                      "invocation (same spec hash), so the cells' own time is the Total row: {:.1f} min.\n",
                      spec.name, *opt.wall_seconds / 60, cells / 60);
  else if (opt.wall_seconds)
    md += fmt::format("\nWall time of `make {}`: {:.1f} min\n", spec.name, *opt.wall_seconds / 60);
  return md + conclusions_markdown(conclusions(spec, g, claims));
}

}  // namespace

ReportResult make_report(const ReportSpec& spec, const ReportOptions& opt) {
  std::vector<std::string> notes;
  auto gathered = std::make_shared<const Gathered>(gather(spec, runs_root(spec, opt), notes));
  const Gathered& g = *gathered;
  const auto& paper = g.paper;
  ReportResult res{CsvTable({"model", "algorithm", "metric", "accuracy", "paper", "delta", "n", "seeds", "std",
                             "dataset", "threat_params", "git_commit", "mode", "per_seed"}),
                   "", 0, {}, std::move(notes), gathered};

  for (const auto& m : spec.models)
    for (const auto& [a, base, mode] : row_algorithms(spec, g))
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        if (it == g.cells.end()) {
          // Transfer, matched and control rows are extra, never missing.
          res.cells_missing += mode == "white-box" && rank(spec.algorithms, base) < spec.algorithms.size();
          continue;
        }
        const Cell& cell = it->second;
        const Stats st = stats(cell);
        auto p = paper.find(Key{m, a, c});
        const bool has_paper = p != paper.end();
        res.long_table.add({m, base, c, fixed2(st.mean), has_paper ? fixed2(p->second.value) : "",
                            has_paper ? fixed2(st.mean - p->second.value) : "", join(cell.ns, "|"),
                            std::to_string(st.seeds), st.std ? fixed2(*st.std) : "",
                            join(cell.datasets, " | "), join(cell.params, " | "), join(cell.commits, " | "), mode,
                            per_seed(cell)});
        if (rank(spec.sweep_mean, c) == spec.sweep_mean.size()) continue;
        // The averaged cell's parts: one row per sweep value (mean ± std over seeds), no paper value.
        std::map<double, std::pair<std::string, Cell>> at;
        for (const auto& sm : g.sweep)
          if (sm.model == m && sm.algorithm == a && sm.metric == c) {
            auto& [text, part] = at[sm.x];
            text = sm.value;
            part.acc.push_back(sm.accuracy), part.acc_seed.push_back(sm.seed);
          }
        for (const auto& [x, tp] : at) {
          const Stats ps = stats(tp.second);
          res.long_table.add({m, base, c, fixed2(ps.mean), "", "", join(cell.ns, "|"), std::to_string(ps.seeds),
                              ps.std ? fixed2(*ps.std) : "", join(cell.datasets, " | "),
                              spec.sweep_param_of(c) + "=" + tp.first, join(cell.commits, " | "), mode, per_seed(tp.second)});
        }
      }

  const fs::path out = opt.out_dir;
  // One CSV and plot per swept setting, each a section of the Markdown.
  std::vector<std::pair<std::string, std::vector<std::string>>> sweep_sections;
  for (const auto& p : swept_settings(spec, g)) {
    std::vector<SweepSample> samples;
    std::copy_if(g.sweep.begin(), g.sweep.end(), std::back_inserter(samples), [&](const auto& s) { return s.param == p; });
    auto sw = report_detail::write_sweep(out.string(), spec.name, p, samples, opt.gnuplot);
    sweep_sections.emplace_back(p, sw.written);
    res.notes.insert(res.notes.end(), sw.notes.begin(), sw.notes.end());
  }
  res.markdown = markdown(spec, opt, g, paper, res, sweep_sections);
  const std::string csv_path = (out / (spec.name + ".csv")).string(), md_path = (out / (spec.name + ".md")).string();
  res.long_table.save(csv_path);
  write_text_atomic(md_path, res.markdown);
  res.written = {csv_path, md_path};
  for (const auto& [param, files] : sweep_sections) res.written.insert(res.written.end(), files.begin(), files.end());
  return res;
}

}  // namespace lrb
