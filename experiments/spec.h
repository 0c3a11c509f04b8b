// ExperimentSpec: the typed, strictly decoded top level of an experiment config.
#pragma once
#include <cstdint>
#include <string>

#include "core/config.h"
#include "trainers/train_spec.h"

namespace lrb {

struct ExperimentSpec {
  NodePtr root;  // the resolved tree (written to config.resolved.yaml)
  std::string name = "experiment";
  uint64_t seed = 0;
  std::string threads = "auto", device = "cpu", data_root;
  Config dataset, model, trainer, eval;  // plugin sections, decoded by their plugins
  TrainSpec train;
  std::string hash;
};

// Reads the top-level keys strictly; plugin sections are decoded by the plugins themselves.
ExperimentSpec decode_spec(const NodePtr& root);

}  // namespace lrb
