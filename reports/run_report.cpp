#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <set>

#include "core/errors.h"
#include "core/fs.h"
#include "reports/check.h"
#include "reports/report.h"

#ifndef LRB_SOURCE_DIR
#define LRB_SOURCE_DIR "."
#endif

namespace lrb {

namespace fs = std::filesystem;

std::vector<std::string> report_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LRBENCH_REPORTS"); env && *env) dirs.push_back(env);
  dirs.push_back((fs::path(LRB_SOURCE_DIR) / "reports").string());
  return dirs;
}

int run_report(const std::string& name, const ReportOptions& options, std::ostream& out, const ReportChecks& checks) {
  const auto dirs = report_search_dirs();
  // A bare name only: "../x" must not reach outside the report folders.
  const bool plain = !name.empty() && name[0] != '.' && name.find('/') == std::string::npos;
  std::string yaml;
  for (const auto& d : dirs)
    if (plain && fs::is_regular_file(fs::path(d) / (name + ".yaml"))) {
      yaml = (fs::path(d) / (name + ".yaml")).string();
      break;
    }
  if (yaml.empty()) {
    std::set<std::string> known;
    std::error_code ec;
    for (const auto& d : dirs)
      if (fs::is_directory(d, ec))
        for (const auto& e : fs::directory_iterator(d, ec))
          if (e.path().extension() == ".yaml") known.insert(e.path().stem().string());
    std::vector<std::string> list(known.begin(), known.end());
    throw ConfigError(fmt::format("unknown report '{}' (known: {}; looked in {}){}", name,
                                  list.empty() ? "none" : fmt::format("{}", fmt::join(list, ", ")),
                                  fmt::join(dirs, ", "), did_you_mean(name, list)));
  }
  std::vector<ExpectedSet> expected;
  for (const auto& f : checks.files) expected.push_back(load_expected(f, name, checks.tolerance));
  const ReportOptions& opt = options;
  const ReportSpec spec = ReportSpec::load(yaml);
  const ReportResult res = make_report(spec, opt);
  out << res.markdown << "\n";
  for (const auto& w : res.written) out << "wrote " << w << "\n";
  for (const auto& n : res.notes) out << "note: " << n << "\n";
  if (checks.paper_tolerance)
    expected.push_back(paper_expected(res.long_table, *checks.paper_tolerance, checks.paper_metrics));
  int rc = 0;
  std::vector<CheckResult> results;
  for (const auto& e : expected) {
    results.push_back(check_cells(e, res.long_table));
    out << format_check(results.back());
    rc = results.back().ok() ? rc : 1;
  }
  if (!checks.update_expected.empty()) {
    write_text_atomic(checks.update_expected, updated_expected(checks.update_expected, name, res.long_table).str());
    out << "wrote " << checks.update_expected << " (the rows of " << name << ")\n";
  }
  if (opt.html) {
    const HtmlResult html = write_html_report(spec, opt, res, results);
    out << "wrote " << html.path << "\n";
    for (const auto& n : html.notes) out << "note: " << n << "\n";
  }
  return rc;
}

}  // namespace lrb
