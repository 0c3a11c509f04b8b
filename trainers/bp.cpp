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
    auto& team = collective();
    // Scaled out (DDP's semantics): each rank takes a contiguous share of the batch's rows, its mean loss is
    // weighted by its share, and the gradients are summed over the ranks. A graph is one example (its nodes
    // are coupled), so every rank computes it whole and the sum is divided by the ranks instead.
    // A share of fewer than 2 rows (a batch smaller than 2 x the ranks, e.g. an epoch's last) would break
    // BatchNorm's batch statistics on one rank: every rank then takes the whole batch, as for a graph.
    const int64_t n = batch.x.size(0);
    const bool split = team.world() > 1 && !batch.mask.defined() && n / team.world() >= 2;
    const Batch mine = split ? batch.rows(torch::arange(n * team.rank() / team.world(), n * (team.rank() + 1) / team.world(),
                                                        torch::TensorOptions().dtype(torch::kLong).device(batch.x.device())))
                             : batch;
    auto logits = mine.select(model.forward(mine));
    auto y = mine.targets();
    const double share = split ? static_cast<double>(y.size(0)) / n : 1.0 / team.world();
    auto loss = y.size(0) > 0 ? torch::nn::functional::cross_entropy(logits, y) : logits.sum() * 0;
    (loss * share).backward();
    StepStats s;
    s.loss = loss.item<double>();
    s.correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    s.count = y.size(0);
    if (team.world() > 1) {
      std::vector<torch::Tensor> sums;
      for (auto& p : model.parameters())
        if (p.grad().defined()) sums.push_back(p.mutable_grad());
      // host: Gloo all-reduces host tensors (trainers/distributed.cpp)
      auto stats = torch::tensor({s.loss * s.count, static_cast<double>(s.correct), static_cast<double>(s.count)},
                                 torch::kDouble);
      if (!split) stats.div_(team.world());
      sums.push_back(stats);
      team.all_reduce_sum(sums);
      s.count = static_cast<int64_t>(stats[2].item<double>());
      s.correct = static_cast<int64_t>(stats[1].item<double>());
      s.loss = stats[0].item<double>() / std::max<int64_t>(s.count, 1);
    }
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
