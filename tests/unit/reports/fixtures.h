// Synthetic run folders for the report tests (report_test.cpp, html_test.cpp).
#pragma once
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/csv.h"
#include "core/fs.h"
#include "reports/report.h"

namespace lrb::report_test {

namespace fs = std::filesystem;


class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() / ("lrb-reports-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  fs::path path_;
};

struct Row {
  std::string model, algorithm, metric, accuracy, seed, params = "", seconds = "1.5", mode = "white-box";
};

inline const char* kDataset = "cifar10 [LOSSY JPEG q75 copy; not the official test set]";

inline void write_eval(const std::string& path, const std::vector<Row>& rows,
                std::vector<std::string> drop_columns = {}) {
  std::vector<std::string> cols = {"model",   "algorithm",  "metric",    "accuracy",      "dataset",   "seed",
                                   "n",       "n_correct",  "git_commit", "spec_hash",    "epoch",     "threat_params",
                                   "model_key", "trainer_key", "threat_key", "queries",     "seconds",   "mode"};
  std::vector<std::string> keep;
  for (const auto& c : cols)
    if (std::find(drop_columns.begin(), drop_columns.end(), c) == drop_columns.end()) keep.push_back(c);
  CsvTable t(keep);
  for (const auto& r : rows) {
    std::map<std::string, std::string> v = {
        {"model", r.model},      {"algorithm", r.algorithm}, {"metric", r.metric},   {"accuracy", r.accuracy},
        {"dataset", kDataset},   {"seed", r.seed},           {"n", "1000"},          {"n_correct", "0"},
        {"git_commit", "abc1234"}, {"spec_hash", "h"},       {"epoch", "2"},         {"threat_params", r.params},
        {"model_key", "m"},      {"trainer_key", "t"},       {"threat_key", "k"},    {"queries", "0"},
        {"seconds", r.seconds},  {"mode", r.mode}};
    std::vector<std::string> fields;
    for (const auto& c : keep) fields.push_back(v[c]);
    t.add(fields);
  }
  fs::create_directories(fs::path(path).parent_path());
  t.save(path);
}

inline const std::string kFgsm = "eps=0.0313725490196078;steps=1";

// Two seeds of ResNet-5/LR-WL, one (nested deeper) of VGG-8/BP, one sweep file.
inline void make_runs(const TempDir& d, const std::string& suite = "table1") {
  write_eval(d / ("runs/resnet5_lrwl_s0/eval/" + suite + ".csv"),
             {{"ResNet-5", "LR-WL", "Ori", "41.28", "0"}, {"ResNet-5", "LR-WL", "FGSM", "20.00", "0", kFgsm}});
  write_eval(d / ("runs/resnet5_lrwl_s1/eval/" + suite + ".csv"),
             {{"ResNet-5", "LR-WL", "Ori", "42.32", "1"}, {"ResNet-5", "LR-WL", "FGSM", "22.00", "1", kFgsm}});
  write_eval(d / ("runs/nested/vgg8_bp_s0/eval/" + suite + ".csv"),
             {{"VGG-8", "BP", "Ori", "80.00", "0"},
              {"VGG-8", "BP", "FGSM", "10.00", "0", kFgsm},
              {"VGG-8", "BP", "Grey", "50.00", "0", "mode=luma"},
              {"VGG-8", "BP", "Shuffle", "5.00", "0"}});
  write_text_atomic(d / "runs/resnet5_lrwl_s0/metrics.csv",
                    "epoch,loss,train_acc,test_acc,seconds\n1,2.0,30,35,10.5\n2,1.5,40,41,20\n");
  write_eval(d / ("runs/resnet5_lrwl_s0/eval/" + suite + ".sweep.csv"),
             {{"ResNet-5", "LR-WL", "FGSM", "30.00", "0", "eps=0.00392156862745098;steps=1"},
              {"ResNet-5", "LR-WL", "FGSM", "20.00", "0", "eps=0.0078431372549019;steps=1"},
              {"ResNet-5", "LR-WL", "FGSM", "10.00", "0", "eps=0.0156862745098039;steps=1"}});
}

inline ReportSpec make_spec(const TempDir& d) {
  write_text_atomic(d / "paper.csv",
                    "model,algorithm,metric,accuracy\nResNet-5,LR-WL,Ori,64.4\nResNet-5,LR-WL,FGSM,10.0\n"
                    "VGG-8,BP,Ori,79.8\n");
  ReportSpec s;
  s.name = "t1";
  s.title = "Test table";
  s.paper_csv = d / "paper.csv";
  s.suite = "table1";
  s.models = {"ResNet-5", "VGG-8"};
  s.algorithms = {"BP", "LR-WL"};
  s.columns = {"Ori", "FGSM", "Grey"};
  s.sweep_param = "eps";
  s.notes = "Attacks are white-box.";
  return s;
}

inline ReportOptions options(const TempDir& d, const std::string& gnuplot = "gnuplot") {
  ReportOptions o;
  o.runs_dir = d / "runs";
  o.out_dir = d / "out";
  o.wall_seconds = 60;
  o.gnuplot = gnuplot;
  return o;
}

inline ReportOptions report_at(const std::string& runs, const std::string& out, std::optional<double> wall = std::nullopt) {
  ReportOptions o;
  o.runs_dir = runs, o.out_dir = out, o.wall_seconds = wall;
  return o;
}

inline bool gnuplot_on_path() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

inline std::vector<std::string> leftover_temps(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
  const std::string mine = "lrb-report-";
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path())) {
    auto n = e.path().filename().string();
    if (n.rfind(mine, 0) == 0 && n.find("-" + std::to_string(::getpid()) + ".gp") != std::string::npos)
      out.push_back(e.path().string());
  }
  return out;
}

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace lrb::report_test
