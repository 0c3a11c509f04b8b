#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/errors.h"

namespace lrb {

namespace {
struct State {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::sink_ptr file_sink;  // one run's log.txt at a time
  spdlog::level::level_enum level = spdlog::level::info;
};
State& state() {
  static State s;
  return s;
}
// Caller holds s.mu.
void ensure_stderr_sink(State& s) {
  if (!s.sinks.empty()) return;
  auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err->set_pattern("[%H:%M:%S] [%n] %^%l%$ %v");
  s.sinks.push_back(err);
}
}  // namespace

void init_logging(const std::string& level) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw ConfigError("--log-level", "unknown log level '" + level + "' (expected trace, debug, info, warn, error)");
  s.level = lvl;
  ensure_stderr_sink(s);
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(lvl); });
}

void log_to_file(const std::string& file, bool append) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/!append);
  sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] %l %v");
  auto old = s.file_sink;
  auto drop_old = [&](std::vector<spdlog::sink_ptr>& v) {
    if (old) v.erase(std::remove(v.begin(), v.end(), old), v.end());
  };
  drop_old(s.sinks);
  s.sinks.push_back(sink);
  s.file_sink = sink;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) {
    drop_old(l->sinks());
    l->sinks().push_back(sink);
  });
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  if (auto l = spdlog::get(name)) return l;
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto l = spdlog::get(name)) return l;
  ensure_stderr_sink(s);
  auto l = std::make_shared<spdlog::logger>(name, s.sinks.begin(), s.sinks.end());
  l->set_level(s.level);
  // Every info line reaches log.txt at once: a run killed with SIGKILL keeps its log up to the kill.
  l->flush_on(spdlog::level::info);
  spdlog::register_logger(l);
  return l;
}

}  // namespace lrb
