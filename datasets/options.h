// Options every dataset accepts (path, limit_train, limit_test) and the label caveat that slices add.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "core/config.h"
#include "datasets/dataset.h"

namespace lrb::datasets {

struct CommonOptions {
  std::string path;         // directory override; "" = the dataset's default under the data root
  int64_t limit_train = 0;  // first N training examples (graph: training nodes); 0 = all
  int64_t limit_test = 0;   // first N test examples (graph: test nodes); 0 = all

  void read(const Config& c) {
    c.has("name");  // read by the registry; asked here so strict decoding knows it
    c.read("path", path);
    c.read("limit_train", limit_train, Range::at_least(0));
    c.read("limit_test", limit_test, Range::at_least(0));
  }
  // `path` if set, else `fallback` relative to the resolved data root.
  std::string dir(const DataContext& ctx, const std::string& fallback) const {
    return !path.empty() ? path : resolve_data_root(ctx.data_root) + "/" + fallback;
  }
  // A slice changes what a result means, so it is part of the dataset column.
  std::string caveat() const {
    std::string s;
    if (limit_train > 0) s += fmt::format("limit_train={}", limit_train);
    if (limit_test > 0) s += fmt::format("{}limit_test={}", s.empty() ? "" : ", ", limit_test);
    return s;
  }
};

// "key [a; b]" from the non-empty caveats.
inline std::string labelled(const std::string& key, const std::string& a, const std::string& b = "") {
  std::string inner = a.empty() ? b : b.empty() ? a : a + "; " + b;
  return inner.empty() ? key : key + " [" + inner + "]";
}

}  // namespace lrb::datasets
