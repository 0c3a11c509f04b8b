// Fashion-MNIST: Xiao, Rasul, Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
// Algorithms", arXiv:1708.07747, 2017. 60000 train / 10000 test 28x28 grey clothing images, 10 classes, IDX files
// (plain or .gz) checked against the decompressed sha256s of shared/data/README.md.
// Options: path (default <data_root>/fashion-mnist when that directory exists, else
// /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist), limit_train, limit_test.
// No normalisation (InputSpec mean 0, std 1), as for MNIST.
#include <filesystem>

#include "core/registry.h"
#include "datasets/idx.h"

namespace lrb::datasets {

struct FashionMnistOptions {
  CommonOptions common;
  static FashionMnistOptions from(const Config& c) {
    FashionMnistOptions o;
    o.common.read(c);
    return o;
  }
};

class FashionMnist final : public IdxImageSource {
 public:
  FashionMnist(const FashionMnistOptions& o, const DataContext& ctx)
      : IdxImageSource("fashion-mnist", "fashion-mnist", default_dir(o, ctx), o.common, {0.0}, {1.0}) {}

 private:
  static std::string default_dir(const FashionMnistOptions& o, const DataContext& ctx) {
    std::string under_root = o.common.dir(ctx, "fashion-mnist");
    std::error_code ec;
    if (!o.common.path.empty() || std::filesystem::is_directory(under_root, ec)) return under_root;
    return "/usr/share/datasets/fashion-mnist";
  }
};

}  // namespace lrb::datasets

LRB_REGISTER(lrb::DatasetSource, "fashion-mnist", "Fashion-MNIST clothing images, 60k/10k 28x28 (IDX, gzip)",
             [](const lrb::Config& c, const lrb::DataContext& ctx) -> lrb::DatasetSource::Ptr {
               using namespace lrb::datasets;
               return std::make_unique<FashionMnist>(FashionMnistOptions::from(c), ctx);
             });
