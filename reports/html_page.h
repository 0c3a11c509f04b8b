// The HTML report page, section by section (reports/html.cpp decides what goes in). Everything is inline: CSS,
// SVG plots and a few lines of script, so the file opens anywhere without network access. Internal to
// lrb_reports.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "reports/check.h"
#include "reports/gather.h"
#include "reports/marks.h"
#include "reports/masking.h"

namespace lrb::report_detail {

std::string html_escape(const std::string& s);
// The few lines of script every lrbench page ends with: the "only marked" checkbox (where there is one), and
// body data-plots-drawn / data-ready for headless-browser tests.
const char* page_script();

class HtmlPage {
 public:
  // A cell is marked "reversed" when its robustness relative to BP orders the other way than the paper's
  // (reports/marks.h), "off" when |ours − paper| > paper_tolerance percentage points (only when > 0: asked for
  // with --mark-paper), and "regressed" when one of `checks` names it (an offender of a --check file or of
  // --check-paper).
  HtmlPage(const ReportSpec& spec, const Gathered& g, const ReportResult& res, const std::vector<CheckResult>& checks,
           double paper_tolerance);

  // (seed, anchor of that seed's run card) for each result of a cell.
  using RunLinks = std::function<std::vector<std::pair<std::string, std::string>>(const Cell&)>;
  void table(const RunLinks& links);
  void checks();
  // masking.h's findings, every check named, or a line saying none triggered.
  void masking();
  // TextAttack's summary (success rate, words changed, queries) of every text-attack cell; nothing without one.
  void text_attacks();
  // `svgs`: one per (model, metric) chart, or empty when gnuplot drew nothing (`expected` says how many).
  void sweeps(const std::vector<std::string>& svgs, size_t expected);
  struct Curves {
    std::string title, accuracy_svg, loss_svg;  // svg "" when not drawn
  };
  void curves(const std::vector<Curves>& curves);
  // The audit's sections (reports/html_audit.cpp): the paper's claim rows, the retention table, and the two
  // conclusion sections the page ends with (reports/conclusions.h).
  void claims();
  void retention();
  void conclusions();
  void method_notes();
  void times(std::optional<double> wall_seconds);
  struct RunCard {
    std::string anchor, path, model, algorithm, seed;
    std::vector<std::pair<std::string, std::string>> fields;  // run.json's (sorted by key), then 'evaluated'
    std::string config;                                       // config.resolved.yaml ("" when absent)
  };
  void provenance(const std::vector<RunCard>& runs, const std::vector<std::string>& notes);

  std::string finish() const;  // the whole document

 private:
  void section(const std::string& id, const std::string& heading);
  const ReportSpec& spec_;
  const Gathered& g_;
  const ReportResult& res_;
  const std::vector<CheckResult>& checks_;
  double tolerance_;
  std::map<Key, std::vector<std::string>> regressed_;  // cell -> what the checks said
  std::set<std::pair<std::string, std::string>> near_chance_;  // masking check 5: rows greyed out
  size_t off_ = 0, regressed_cells_ = 0, comparable_ = 0;
  std::map<Key, Reversal> reversed_;
  std::vector<std::pair<std::string, std::string>> nav_;  // (id, heading)
  std::string body_;
};

}  // namespace lrb::report_detail
