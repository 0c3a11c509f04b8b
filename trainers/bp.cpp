// bp: exact gradients by back-propagation; the reference every estimator is compared with.
#include <torch/torch.h>

#include "core/registry.h"
#include "trainers/trainer.h"

namespace lrb {

class Bp final : public Trainer {
 public:
  std::string key() const override { return "bp"; }
  StepStats estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator&) override {
    for (auto& p : model.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    auto logits = batch.select(model.forward(batch));
    auto y = batch.targets();
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    StepStats s;
    s.loss = loss.item<double>();
    s.correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    s.count = y.size(0);
    s.forward_rows = s.count;
    return s;
  }
};

LRB_REGISTER(Trainer, "bp", "back-propagation: exact gradients (the reference)",
             [](const Config& c) -> Trainer::Ptr {
               c.has("name");
               return std::make_unique<Bp>();
             });

}  // namespace lrb
