// Builds dataset sources the way the runner does: YAML options -> registry -> strict key check.
#pragma once
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/errors.h"
#include "core/registry.h"
#include "datasets/dataset.h"
#include "tests/support/support.h"

namespace lrb::test {

inline std::unique_ptr<DatasetSource> make_source(const std::string& yaml, uint64_t seed = 0,
                                                  std::string root = data_root()) {
  Config c(parse_yaml_string(yaml, "<test>"), "dataset");
  auto src = Registry<DatasetSource>::get().make(c, DataContext{std::move(root), seed});
  c.reject_unread_keys();
  return src;
}

inline std::unique_ptr<DatasetSource> load_source(const std::string& yaml, uint64_t seed = 0) {
  auto src = make_source(yaml, seed);
  src->load();
  return src;
}

// The message of the DataError `f` throws ("" and a test failure when it throws nothing).
template <class F>
std::string data_error(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a DataError";
  return "";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Links every file of `from` into `to`, except `except` (which the test writes itself).
inline void link_dir(const std::string& from, const std::string& to, const std::string& except = "") {
  namespace fs = std::filesystem;
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from))
    if (e.path().filename() != except) fs::create_symlink(fs::absolute(e.path()), fs::path(to) / e.path().filename());
}

inline int64_t count_of(const torch::Tensor& y, int64_t c) { return (y == c).sum().item<int64_t>(); }

// An image batch of n examples shaped [n, C, H, W] (float in [0, 1]) with int64 labels [n].
inline void expect_images(const Batch& b, int64_t n, std::vector<int64_t> chw) {
  chw.insert(chw.begin(), n);
  EXPECT_EQ(b.modality, Modality::kImage);
  EXPECT_EQ(b.x.sizes(), chw);
  EXPECT_EQ(b.x.scalar_type(), torch::kFloat);
  EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{n}));
  EXPECT_EQ(b.y.scalar_type(), torch::kLong);
  EXPECT_GE(b.x.min().item<float>(), 0.f);
  EXPECT_LE(b.x.max().item<float>(), 1.f);
}

}  // namespace lrb::test
