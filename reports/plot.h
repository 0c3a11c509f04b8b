// Accuracy-vs-parameter sweeps of a report: long CSV + gnuplot PNG. Internal to lrb_reports.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace lrb::report_detail {

// One eval row of a <suite>.sweep.csv, already reduced to the swept parameter's value.
struct SweepSample {
  std::string model, algorithm, metric;
  std::string param;  // the swept setting (the spec's sweep_param_of(metric))
  std::string value;  // as printed in threat_params, e.g. "0.0156862745098039"
  double x = 0;       // parsed value
  double accuracy = 0;
  std::string seed;  // the run's seed (eval CSV column), for the long CSV's per_seed column
};

// The mean over seeds of each point of each (model, algorithm, metric) series.
struct SweepPoint {
  std::string value;  // as printed in threat_params
  double x = 0, sum = 0;
  int count = 0;      // seeds: the mean is sum / count
};
struct SweepSeries {
  std::string model, algorithm, metric, param;
  std::vector<SweepPoint> points;
};
// `samples` sorted as gather() leaves them (series, then x): samples of one series, and of one x in it, adjacent.
std::vector<SweepSeries> sweep_series(const std::vector<SweepSample>& samples);

struct SweepOutput {
  std::vector<std::string> written;
  std::vector<std::string> notes;
};

// The path of `name` (a PATH name, or a path when it has a '/') when it is an executable file; nullopt for "".
std::optional<std::string> find_program(const std::string& name);
std::string shell_quote(const std::string& s);  // for /bin/sh: 'it'\''s'
std::string gp_string(const std::string& s);    // a gnuplot string literal: 'it''s'

// The value of `key` in "k=v;k=v", or nullopt.
std::optional<std::string> threat_param(const std::string& threat_params, const std::string& key);

// Writes <out_dir>/<name>_<param>.csv (mean over seeds per point) and, when `gnuplot` is found,
// <out_dir>/<name>_<param>.png. `samples` come sorted in print order (series, then x).
SweepOutput write_sweep(const std::string& out_dir, const std::string& name, const std::string& param,
                        const std::vector<SweepSample>& samples,
                        const std::string& gnuplot);

}  // namespace lrb::report_detail
