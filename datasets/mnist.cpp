// MNIST: LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document recognition", Proc. IEEE 1998.
// 60000 train / 10000 test 28x28 grey digits, IDX files (plain or .gz) checked against the decompressed sha256s
// of shared/data/README.md. Images float [N,1,28,28] in [0,1], labels int64 0..9.
// Options: path (default <data_root>/mnist), limit_train, limit_test (0 = all; first N examples).
// No normalisation (InputSpec mean 0, std 1): the paper does not give one for the SNN experiments and rate-coded
// spike inputs want raw intensities.
#include "datasets/idx.h"

#include "core/registry.h"

namespace lrb::datasets {

struct MnistOptions {
  CommonOptions common;
  static MnistOptions from(const Config& c) {
    MnistOptions o;
    o.common.read(c);
    return o;
  }
};

class Mnist final : public IdxImageSource {
 public:
  Mnist(const MnistOptions& o, const DataContext& ctx)
      : IdxImageSource("mnist", "mnist", o.common.dir(ctx, "mnist"), o.common, {0.0}, {1.0}) {}
};

}  // namespace lrb::datasets

LRB_REGISTER(lrb::DatasetSource, "mnist", "MNIST handwritten digits, 60k/10k 28x28 (IDX, gzip)",
             [](const lrb::Config& c, const lrb::DataContext& ctx) -> lrb::DatasetSource::Ptr {
               using namespace lrb::datasets;
               return std::make_unique<Mnist>(MnistOptions::from(c), ctx);
             });
