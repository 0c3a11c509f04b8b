// spdlog set-up: named loggers share sinks to stderr and, once a run directory exists, <run>/log.txt.
#pragma once
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace lrb {

void init_logging(const std::string& level = "info");
// Adds <file> as a sink of every lrbench logger (the run's log.txt).
void log_to_file(const std::string& file, bool append = false);
std::shared_ptr<spdlog::logger> logger(const std::string& name);

}  // namespace lrb
