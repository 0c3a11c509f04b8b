// The HTML report page on synthetic run folders: content, marks, links, self-containment, no plots without
// gnuplot. That the page loads in a browser without errors is tests/html/html_chromium_test.sh's job.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include "core/fs.h"
#include "reports/report.h"
#include "tests/unit/reports/fixtures.h"

using namespace lrb;
using namespace lrb::report_test;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Points TMPDIR somewhere else for one scope.
class TmpDirEnv {
 public:
  explicit TmpDirEnv(const std::string& dir) : had_(std::getenv("TMPDIR") != nullptr), old_(had_ ? std::getenv("TMPDIR") : "") {
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpDirEnv() { had_ ? ::setenv("TMPDIR", old_.c_str(), 1) : ::unsetenv("TMPDIR"); }

 private:
  bool had_;
  std::string old_;
};

// make_runs plus what a real run directory also holds: run.json and config.resolved.yaml.
void add_provenance(const TempDir& d) {
  write_text_atomic(d / "runs/resnet5_lrwl_s0/run.json",
                    R"({"spec_hash": "5f1e", "seed": 0, "git_commit": "abc1234", "device": "cpu", "status": "finished"})");
  write_text_atomic(d / "runs/resnet5_lrwl_s0/config.resolved.yaml", "model:\n  name: resnet5 # <b>&\n");
  write_text_atomic(d / "runs/nested/vgg8_bp_s0/metrics.csv",
                    "epoch,loss,train_acc,test_acc,seconds,val_acc\n1,1.0,50,60,3,58\n2,nan,55,65,3,61\n");
}

std::string write_page(const TempDir& d, ReportOptions o, const std::vector<CheckResult>& checks = {}) {
  o.html = true;
  const ReportSpec spec = make_spec(d);
  const ReportResult res = make_report(spec, o);
  const HtmlResult html = write_html_report(spec, o, res, checks);
  EXPECT_EQ(html.path, d / "out/t1.html");
  return read_text(html.path);
}

}  // namespace

TEST(HtmlReport, TableCellsShowOursPaperDeltaAndLinkTheirRuns) {
  TempDir d;
  make_runs(d);
  add_provenance(d);
  auto opt = options(d);
  opt.html_paper_tolerance = 5;  // the distance mark is asked for (--mark-paper 5); by default only reversals mark
  const std::string html = write_page(d, opt);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>Test table</title>"), std::string::npos);
  // ResNet-5 LR-WL Ori: seeds 41.28 and 42.32; the paper's 64.4 is 22.6 points off: marked at the default 5 pp.
  const std::regex resnet_ori(
      R"re(<td class="cell off"[^>]*><span class="ours">41\.80<span class="sd"> ± 0\.74</span></span>)re"
      R"re(<span class="paper">paper 64\.4 · <span class="delta">−22\.6</span></span>)re"
      R"re(<span class="runs">seed <a href="#run-(\d+)">0</a> <a href="#run-(\d+)">1</a></span></td>)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, resnet_ori)) << html.substr(html.find("<table"), 3000);
  EXPECT_NE(m[1], m[2]);
  // Every link lands on a run card, which names the run directory.
  for (int i : {1, 2}) EXPECT_NE(html.find("<div class=\"card\" id=\"run-" + m[i].str() + "\">"), std::string::npos);
  EXPECT_NE(html.find("<code>resnet5_lrwl_s1</code>"), std::string::npos);
  // VGG-8 BP Ori (80.00 vs 79.8) is within 5 pp: not marked.
  EXPECT_NE(html.find("<td class=\"cell\" title=\"per seed: 0:80.00"), std::string::npos);
  EXPECT_NE(html.find("|ours − paper| &gt; 5.0 pp (--mark-paper): 2"), std::string::npos);  // ResNet Ori and FGSM (21.00 vs 10.0)
  EXPECT_NE(html.find("<td class=\"cell missing\""), std::string::npos);  // ResNet-5 Grey has no result
}

TEST(HtmlReport, ProvenanceShowsRunJsonAndEscapedConfig) {
  TempDir d;
  make_runs(d);
  add_provenance(d);
  const std::string html = write_page(d, options(d));
  EXPECT_NE(html.find("<tr><td>spec_hash</td><td>5f1e</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>git_commit</td><td>abc1234</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("name: resnet5 # &lt;b&gt;&amp;"), std::string::npos);  // YAML shown as text
  EXPECT_EQ(html.find("<b>&"), std::string::npos);
  // Runs without run.json are listed, with a note saying their provenance is missing.
  EXPECT_NE(html.find("nested/vgg8_bp_s0: run.json missing or not JSON"), std::string::npos);
  EXPECT_NE(html.find("Attacks are white-box."), std::string::npos);
  // Where each number was measured, per run: the eval files and the commit that evaluated them.
  EXPECT_NE(html.find("<tr><td>evaluated</td><td>eval/table1.csv (commit abc1234)</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>evaluated</td><td>eval/table1.sweep.csv (commit abc1234)</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("resnet5_lrwl_s1: no metrics.csv; no training curves for this run"), std::string::npos);
}

TEST(HtmlReport, AnUnreadableMetricsFileCostsOnlyItsCurvesAndNotesAreNotRepeated) {
  TempDir d;
  make_runs(d);
  write_text_atomic(d / "runs/resnet5_lrwl_s0/metrics.csv", "epoch,loss,train_acc,test_acc,seconds\n1,abc,1,2,3\n");
  write_eval(d / "runs/other/eval/table1.csv", {{"FOO", "BP", "Ori", "50.00", "0"}});
  ReportOptions o = options(d);
  o.html = true;
  const ReportSpec spec = make_spec(d);
  const ReportResult res = make_report(spec, o);
  const HtmlResult out = write_html_report(spec, o, res, {});
  const std::string html = read_text(out.path);
  const std::string bad = "resnet5_lrwl_s0/metrics.csv: row 1 column loss: &#39;abc&#39; is not a number; no training curves";
  EXPECT_NE(html.find(bad), std::string::npos);
  // The caller prints the page's own notes; the report's (an ignored model here) are in the page once.
  EXPECT_EQ(std::count_if(out.notes.begin(), out.notes.end(),
                          [](const std::string& n) { return n.find("'abc' is not a number") != std::string::npos; }),
            1);
  EXPECT_EQ(count(html, "ignored results not listed"), 1u);
}

TEST(HtmlReport, PlotsAreInlineSvgWithUniqueIdsAndNoExternalResource) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot not installed (scripts/install-deps.sh installs gnuplot-nox)";
  TempDir d;
  // Its own temporary folder: other tests may be drawing charts at the same time (ctest -j).
  fs::create_directories(d / "tmp");
  const TmpDirEnv tmp(d / "tmp");
  make_runs(d);
  add_provenance(d);
  const std::string html = write_page(d, options(d));
  // One sweep chart (ResNet-5 · FGSM) and accuracy + loss for the two (model, algorithm) with metrics.csv.
  EXPECT_EQ(count(html, "<figure class=\"plot sweep\"><svg"), 1u);
  EXPECT_EQ(count(html, "<figure class=\"plot curve\"><svg"), 4u);
  EXPECT_EQ(count(html, "<svg"), 5u);
  EXPECT_NE(html.find("<title>Gnuplot</title>"), std::string::npos);
  std::set<std::string> ids;
  const std::regex id(R"( id=["']([^"']+)["'])");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), id); it != std::sregex_iterator(); ++it)
    EXPECT_TRUE(ids.insert((*it)[1]).second) << "duplicate id " << (*it)[1];
  const std::regex ref(R"((?:src|href)=["']([^"']*)["'])");
  size_t refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it, ++refs) {
    const std::string target = (*it)[1];
    ASSERT_EQ(target.rfind('#', 0), 0u) << "external resource " << target;
    EXPECT_TRUE(ids.count(target.substr(1))) << "dangling link " << target;
  }
  EXPECT_GT(refs, 10u);
  EXPECT_TRUE(fs::is_empty(d / "tmp")) << "gnuplot's files left behind";
  EXPECT_TRUE(leftover_temps(d / "out").empty());
}

TEST(HtmlReport, WithoutGnuplotThePageSaysSoAndHasNoPlots) {
  TempDir d;
  make_runs(d);
  const std::string html = write_page(d, options(d, "/nonexistent/gnuplot"));
  EXPECT_EQ(count(html, "<svg"), 0u);
  EXPECT_NE(html.find("no plots in the HTML page: &#39;/nonexistent/gnuplot&#39; not found"), std::string::npos);
  EXPECT_NE(html.find("id=\"results-table\""), std::string::npos);
}

TEST(HtmlReport, RunReportMarksCellsThatFailACheckAndStillWritesThePage) {
  TempDir d;
  make_runs(d);
  write_text_atomic(d / "defs/paper.csv", "model,algorithm,metric,accuracy\nVGG-8,BP,Ori,79.8\nVGG-8,BP,FGSM,30\n");
  write_text_atomic(d / "defs/t1.yaml", "title: T\nsuite: table1\npaper: paper.csv\nmodels: [VGG-8]\n"
                                        "algorithms: [BP]\ncolumns: [Ori, FGSM]\n");
  ::setenv("LRBENCH_REPORTS", (d / "defs").c_str(), 1);
  ReportOptions o = report_at(d / "runs", d / "out");
  o.html = true;
  o.html_paper_tolerance = 25;  // FGSM is 20 points off the paper: not "off" at 25 pp, but fails the 1 pp check
  ReportChecks checks;
  checks.paper_tolerance = 1;
  std::ostringstream out;
  const int rc = run_report("t1", o, out, checks);
  ::unsetenv("LRBENCH_REPORTS");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.str().find("wrote " + (d / "out/t1.html")), std::string::npos) << out.str();
  const std::string html = read_text(d / "out/t1.html");
  EXPECT_NE(html.find("<td class=\"cell regressed\" title=\"the paper (" + kFgsm + "): expected 30.00 ± 1.00, got 10.00"),
            std::string::npos);
  EXPECT_EQ(count(html, "regressed\""), 1u);  // Ori (80.00 vs 79.8) is within 1 pp
  EXPECT_NE(html.find("<pre class=\"fail\">check against the paper: 1 of 2 cells outside their tolerance"),
            std::string::npos);
  EXPECT_EQ(count(html, "class=\"cell off"), 0u);
}
