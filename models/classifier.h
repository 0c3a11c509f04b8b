// ClassifierImpl: every model of the zoo (XImpl + TORCH_MODULE(X) + XOptions), built from the registry.
#pragma once
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <string>

#include "core/batch.h"
#include "core/config.h"
#include "datasets/dataset.h"

namespace lrb {

struct ModelContext {
  InputSpec input;
  int64_t num_classes = 10;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  static constexpr const char* kKind = "model";
  using Ptr = std::shared_ptr<ClassifierImpl>;
  using Factory = std::function<Ptr(const Config&, const ModelContext&)>;

  virtual torch::Tensor forward(const Batch& batch) = 0;
  virtual std::string key() const = 0;
  virtual Modality modality() const = 0;
};

}  // namespace lrb
