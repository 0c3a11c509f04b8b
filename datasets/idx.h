// IDX files (LeCun's MNIST format, also Fashion-MNIST): parsing, and one DatasetSource shared by both datasets.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/formats.h"
#include "datasets/options.h"

namespace lrb::datasets {

// 28x28 grey images + labels from train-/t10k- image and label files (plain or .gz).
class IdxImageSource : public DatasetSource {
 public:
  // `group`: manifest group and fetch_data.sh name ("mnist", "fashion-mnist").
  IdxImageSource(std::string key, std::string group, std::string dir, CommonOptions common,
                 std::vector<double> mean, std::vector<double> std);
  std::string key() const override { return key_; }
  Modality modality() const override { return Modality::kImage; }
  int64_t num_classes() const override { return 10; }
  void load() override;
  const Batch& train() const override;
  const Batch& test() const override;
  InputSpec input_spec() const override;
  std::string label() const override { return labelled(key_, common_.caveat()); }
  std::vector<FileCheck> verify() const override;
  const std::string& dir() const { return dir_; }

 private:
  Batch read_split(const std::string& prefix, int64_t limit) const;
  std::string key_, group_, dir_;
  CommonOptions common_;
  std::vector<double> mean_, std_;
  Batch train_, test_;
  bool loaded_ = false;
};

}  // namespace lrb::datasets
