// DatasetSource: one file per dataset under datasets/, registered with LRB_REGISTER(DatasetSource, ...).
// A source reads and verifies its files in load(); splits are held in memory as whole Batches.
#pragma once
#include <ATen/core/Generator.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"

namespace lrb {

namespace datasets {
class Vocab;
}

// Result of checking one file against the manifest (for `lrbench data verify`).
struct FileCheck {
  std::string file;
  bool ok = false;
  std::string detail;  // "sha256 ok (lossy JPEG q75 copy)" / the error line
};

struct DataContext {
  std::string data_root;  // from config `data_root` or $LRBENCH_DATA
  uint64_t seed = 0;      // for seeded splits (AG News split_from_test)
};

class DatasetSource {
 public:
  static constexpr const char* kKind = "dataset";
  using Ptr = std::unique_ptr<DatasetSource>;
  using Factory = std::function<Ptr(const Config&, const DataContext&)>;

  virtual ~DatasetSource() = default;
  virtual std::string key() const = 0;
  virtual Modality modality() const = 0;
  virtual int64_t num_classes() const = 0;
  // Reads and verifies the files; throws DataError naming the file, what was expected and the fix.
  virtual void load() = 0;
  virtual const Batch& train() const = 0;
  virtual const Batch& test() const = 0;
  // The validation split, or nullptr when the dataset has none (the default). Its address is valid before
  // load(); its contents only after.
  virtual const Batch* validation() const { return nullptr; }
  virtual InputSpec input_spec() const = 0;
  // The dataset column of every result: the key plus any caveat ("cifar10 [LOSSY JPEG q75 copy]").
  virtual std::string label() const = 0;
  // Training-time augmentation (CIFAR-10: random horizontal flip); identity by default.
  virtual Batch augment(const Batch& b, at::Generator& gen) const { return b; }
  // Checks present files without keeping them in memory.
  virtual std::vector<FileCheck> verify() const = 0;
  // Text datasets, after load(): the vocabulary the token ids index (what word-level threats swap and
  // mask). nullptr for other data.
  virtual const datasets::Vocab* vocabulary() const { return nullptr; }
  // Text datasets, after load(): for test row i, the sentence number (0, 1, ...) of each of its tokens,
  // as many as the row's length in test(). Empty when the dataset has no sentence information.
  virtual std::vector<std::vector<int32_t>> test_sentences() const { return {}; }
};

// The data root: `configured` if non-empty, else $LRBENCH_DATA, else "data".
std::string resolve_data_root(const std::string& configured);

// Mini-batches of a split: shuffled with `gen` when given; a graph split is one full-graph batch.
std::vector<Batch> make_batches(const Batch& split, int64_t batch_size, at::Generator* gen);

}  // namespace lrb
