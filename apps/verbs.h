// The verbs whose work is small enough to live beside the CLI (listing, verification, tables).
#pragma once
#include <ostream>
#include <string>

#include "core/config.h"
#include "core/csv.h"

namespace lrb {

int list_plugins(const std::string& kind, std::ostream& out);
int verify_data(const std::string& data_root, std::ostream& out);
std::string format_accuracy_table(const CsvTable& table);
// `lrbench eval --show N`: the first N examples of an --examples JSONL file, one block each: a header
// (threat, test row, label, success, p(label) before -> after, queries) and the adversarial text with every
// substituted word marked [original->substitute]. Throws Error naming the file for unreadable lines.
std::string format_examples(const std::string& jsonl_path, int64_t n);
int run_gradcheck(const NodePtr& root, const std::string& out_csv, std::ostream& out);
// `lrbench check`: everything `train` (and `gradcheck`) would reject, without reading data; prints the
// resolved config and its spec hash. Throws ConfigError for the first problem.
int check_experiment(const NodePtr& root, std::ostream& out);

}  // namespace lrb
