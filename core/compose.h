// Hydra-style composition of an experiment file with command-line overrides.
#pragma once
#include <string>
#include <vector>

#include "core/config.h"

namespace lrb {

// Composes `path` with `overrides` the way Hydra does, whatever their order: every group choice
// (`model=mlp`) first replaces that group's entry in the file's `defaults:` (or is appended to it), the
// file's own keys then apply on top, and field overrides (`model.hidden=[512]`) come last, in order.
// Restating the default choice therefore changes nothing. conf_dir defaults to conf_dir_for(path).
// Throws ConfigError naming the file or "<command line>:1:N" (N = the override's position from 1).
NodePtr compose(const std::string& path, const std::vector<std::string>& overrides, std::string conf_dir = "");

// `s` without the spaces and tabs around it, as an override's key and value are read.
std::string trim_blanks(const std::string& s);

}  // namespace lrb
