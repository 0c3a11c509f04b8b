// CIFAR-10: Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", tech. report, U. Toronto, 2009.
// https://www.cs.toronto.edu/~kriz/cifar.html. Binary version: records of 1 label byte + 3072 pixel bytes
// (R, G, B planes of 32x32). Images float [N,3,32,32] in [0,1], labels int64 0..9.
// Normalisation happens inside the model: InputSpec carries the CIFAR mean/std of docs/PAPER.md §4
// (fmmarkmq/LR_Test cnn/dataloader.py). Training augmentation: random horizontal flip, p = 0.5 (same source).
// Options:
//   path     directory holding the variants (default <data_root>/cifar10)
//   variant  auto (default): cifar-10-batches-bin/ (official, size + label bytes checked; no sha256 pinned)
//            if present, else cifar-10-batches-bin-LOSSY-JPEG-q75/ (sha256-checked; pixels NOT original);
//            official | lossy: only that directory; lossless-partial: lossless-partial/ (4000 train / 1000 test,
//            real pixels, original order)
//   flip     true: augment() flips each image horizontally with probability 0.5
//   limit_train, limit_test  first N records (0 = all); only the batch files needed are read
// Every file may also be gzipped (<name>.gz).
#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/errors.h"
#include "core/registry.h"
#include "datasets/formats.h"
#include "datasets/manifest.h"
#include "datasets/options.h"

namespace lrb::datasets {

namespace {
const char* const kOfficialDir = "cifar-10-batches-bin";
const char* const kLossyDir = "cifar-10-batches-bin-LOSSY-JPEG-q75";
const char* const kPartialDir = "lossless-partial";

}  // namespace

struct Cifar10Options {
  CommonOptions common;
  std::string variant = "auto";
  bool flip = true;
  static Cifar10Options from(const Config& c) {
    Cifar10Options o;
    o.common.read(c);
    c.read_choice("variant", o.variant, {"auto", "official", "lossy", "lossless-partial"});
    c.read("flip", o.flip);
    return o;
  }
};

class Cifar10 final : public DatasetSource {
 public:
  Cifar10(Cifar10Options o, const DataContext& ctx) : o_(std::move(o)), root_(o_.common.dir(ctx, "cifar10")) {}

  std::string key() const override { return "cifar10"; }
  Modality modality() const override { return Modality::kImage; }
  int64_t num_classes() const override { return 10; }

  void load() override {
    variant_ = resolved_variant();
    const auto [train_files, test_files] = files(variant_);
    train_ = read_split(train_files, o_.common.limit_train);
    test_ = read_split(test_files, o_.common.limit_test);
    loaded_ = true;
  }
  const Batch& train() const override {
    TORCH_CHECK(loaded_, "cifar10: train() before load()");
    return train_;
  }
  const Batch& test() const override {
    TORCH_CHECK(loaded_, "cifar10: test() before load()");
    return test_;
  }
  InputSpec input_spec() const override {
    InputSpec s;
    s.shape = {3, 32, 32};
    s.mean = {0.49139968, 0.48215827, 0.44653124};
    s.std = {0.24703233, 0.24348505, 0.26158768};
    return s;
  }
  std::string label() const override {
    const std::string v = loaded_ ? variant_ : resolved_variant();
    std::string caveat = v == "lossy"                ? "LOSSY JPEG q75 copy; test order not original"
                         : v == "lossless-partial" ? "lossless partial: 4000 train / 1000 test"
                                                   : "";
    return labelled("cifar10", caveat, o_.common.caveat());
  }

  Batch augment(const Batch& b, at::Generator& gen) const override {
    if (!o_.flip || b.x.size(0) == 0) return b;
    // Draw on the generator's device so a CPU generator serves CUDA batches too; same draws either way.
    auto coin = torch::rand({b.x.size(0)}, gen, torch::TensorOptions().device(gen.device())) < 0.5;
    Batch out = b;
    out.x = torch::where(coin.to(b.x.device()).view({-1, 1, 1, 1}), b.x.flip({3}), b.x);
    return out;
  }

  std::vector<FileCheck> verify() const override {
    std::vector<FileCheck> out;
    std::vector<std::string> variants;
    if (o_.variant != "auto") variants = {o_.variant};
    else
      for (const char* v : {"official", "lossy", "lossless-partial"})
        if (present(v)) variants.push_back(v);
    if (variants.empty()) variants = {"official"};  // nothing here: report what is expected
    for (const auto& v : variants) {
      auto [train_files, test_files] = files(v);
      for (const auto* list : {&train_files, &test_files})
        for (const auto& f : *list) out.push_back(check(v, f));
    }
    return out;
  }

 private:
  using Files = std::pair<std::vector<std::string>, std::vector<std::string>>;

  static std::string dir_of(const std::string& v) {
    return v == "official" ? kOfficialDir : v == "lossy" ? kLossyDir : kPartialDir;
  }
  static Files files(const std::string& v) {
    if (v == "lossless-partial") return {{"data_batch_1_first4000.bin"}, {"test_batch_first1000.bin"}};
    return {{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
            {"test_batch.bin"}};
  }
  bool present(const std::string& v) const {
    return !locate(root_ + "/" + dir_of(v), files(v).first.front()).empty();
  }
  std::string resolved_variant() const {
    if (o_.variant != "auto") return o_.variant;
    if (present("official") || !present("lossy")) return "official";  // neither: the error names the official file
    return "lossy";
  }
  FileCheck check(const std::string& v, const std::string& f) const {
    return check_file(root_ + "/" + dir_of(v), f, expected("cifar10-" + v, f), "cifar10", cifar_record_problem);
  }

  Batch read_split(const std::vector<std::string>& names, int64_t limit) const {
    const std::string dir = root_ + "/" + dir_of(variant_);
    std::vector<std::string> files;
    int64_t n = 0;
    for (const auto& f : names) {
      if (limit > 0 && n >= limit) break;  // a slice needs only the first files
      files.push_back(read_verified(dir, f, expected("cifar10-" + variant_, f), "cifar10", cifar_record_problem));
      n += static_cast<int64_t>(files.back().size()) / kCifarRecord;
    }
    if (limit > 0) n = std::min(n, limit);
    // One pass from the file bytes into the final tensors: the split is large (600 MB of floats for the
    // training set), so no intermediate byte tensors or concatenation.
    Batch b;
    b.modality = Modality::kImage;
    b.x = torch::empty({n, 3, 32, 32}, torch::kFloat);
    b.y = torch::empty({n}, torch::kLong);
    float* x = b.x.data_ptr<float>();
    int64_t* y = b.y.data_ptr<int64_t>();
    int64_t i = 0;
    for (const auto& bytes : files) {
      const auto* u = reinterpret_cast<const uint8_t*>(bytes.data());
      for (size_t r = 0; r < bytes.size() && i < n; r += kCifarRecord, ++i) {
        y[i] = u[r];
        for (int64_t p = 0; p < kCifarRecord - 1; ++p) x[i * (kCifarRecord - 1) + p] = u[r + 1 + p] / 255.0f;  // as ToTensor
      }
    }
    return b;
  }

  Cifar10Options o_;
  std::string root_, variant_;
  Batch train_, test_;
  bool loaded_ = false;
};

}  // namespace lrb::datasets

LRB_REGISTER(lrb::DatasetSource, "cifar10", "CIFAR-10 32x32 colour images, 50k/10k (binary batches, .bin or .bin.gz)",
             [](const lrb::Config& c, const lrb::DataContext& ctx) -> lrb::DatasetSource::Ptr {
               using namespace lrb::datasets;
               return std::make_unique<Cifar10>(Cifar10Options::from(c), ctx);
             });
