// Error types with the exit code main() maps them to; messages are one line naming what, where, got, expected.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace lrb {

class Error : public std::runtime_error {
 public:
  Error(std::string msg, int exit_code) : std::runtime_error(std::move(msg)), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Usage and configuration mistakes: exit 2, before any work is done.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::string msg) : Error(std::move(msg), 2) {}
  ConfigError(const std::string& where, const std::string& what) : Error(where + ": " + what, 2) {}
};

// Missing, truncated or altered data files: exit 1.
class DataError : public Error {
 public:
  explicit DataError(std::string msg) : Error(std::move(msg), 1) {}
};

// Missing or mismatched checkpoints: exit 1.
class CheckpointError : public Error {
 public:
  explicit CheckpointError(std::string msg) : Error(std::move(msg), 1) {}
};

// Training could not go on: exit 1.
class TrainingError : public Error {
 public:
  explicit TrainingError(std::string msg) : Error(std::move(msg), 1) {}
};

// Training diverged (a NaN/Inf loss, gradient, parameter or optimizer state): it would again, so run.json says
// "diverged" and --resume refuses the run.
class DivergedError : public TrainingError {
 public:
  explicit DivergedError(std::string msg) : TrainingError(std::move(msg)) {}
};

// "; did you mean 'x'?" for the closest known key within a small edit distance, else "".
std::string did_you_mean(const std::string& key, const std::vector<std::string>& known);

// Levenshtein distance, exposed for tests.
int edit_distance(const std::string& a, const std::string& b);

}  // namespace lrb
