#include "datasets/idx.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "datasets/manifest.h"

namespace lrb::datasets {

namespace {
constexpr const char* kFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                  "t10k-labels-idx1-ubyte"};
}  // namespace

IdxImageSource::IdxImageSource(std::string key, std::string group, std::string dir, CommonOptions common,
                               std::vector<double> mean, std::vector<double> std)
    : key_(std::move(key)),
      group_(std::move(group)),
      dir_(std::move(dir)),
      common_(std::move(common)),
      mean_(std::move(mean)),
      std_(std::move(std)) {}

Batch IdxImageSource::read_split(const std::string& prefix, int64_t limit) const {
  const std::string img_name = prefix + "-images-idx3-ubyte", lab_name = prefix + "-labels-idx1-ubyte";
  const std::string img_bytes = read_verified(dir_, img_name, expected(group_, img_name), group_);
  const std::string lab_bytes = read_verified(dir_, lab_name, expected(group_, lab_name), group_);
  IdxArray img = parse_idx(img_bytes, 3, locate(dir_, img_name));
  IdxArray lab = parse_idx(lab_bytes, 1, locate(dir_, lab_name));
  if (img.dims[0] != lab.dims[0] || img.dims[1] != 28 || img.dims[2] != 28)
    throw DataError(fmt::format("{}: {} images of {}x{} but {} labels (expected 28x28 and equal counts)",
                                locate(dir_, img_name), img.dims[0], img.dims[1], img.dims[2], lab.dims[0]));
  const int64_t n = limit > 0 ? std::min(limit, img.dims[0]) : img.dims[0];
  Batch b;
  b.modality = Modality::kImage;
  // from_blob views the string; the conversions copy before the string goes away.
  b.x = torch::from_blob(const_cast<uint8_t*>(img.data), {n, 1, 28, 28}, torch::kUInt8).to(torch::kFloat).div_(255);
  b.y = torch::from_blob(const_cast<uint8_t*>(lab.data), {n}, torch::kUInt8).to(torch::kLong);
  if (b.y.max().item<int64_t>() > 9)
    throw DataError(fmt::format("{}: label {} out of range 0..9", locate(dir_, lab_name), b.y.max().item<int64_t>()));
  return b;
}

void IdxImageSource::load() {
  train_ = read_split("train", common_.limit_train);
  test_ = read_split("t10k", common_.limit_test);
  loaded_ = true;
}

const Batch& IdxImageSource::train() const {
  TORCH_CHECK(loaded_, key_, ": train() before load()");
  return train_;
}

const Batch& IdxImageSource::test() const {
  TORCH_CHECK(loaded_, key_, ": test() before load()");
  return test_;
}

InputSpec IdxImageSource::input_spec() const {
  InputSpec s;
  s.shape = {1, 28, 28};
  s.mean = mean_;
  s.std = std_;
  return s;
}

std::vector<FileCheck> IdxImageSource::verify() const {
  std::vector<FileCheck> out;
  for (const char* f : kFiles) out.push_back(check_file(dir_, f, expected(group_, f), group_));
  return out;
}

}  // namespace lrb::datasets
