// Cora citation graph, Planetoid split (Yang, Cohen, Salakhutdinov, ICML 2016; as used by Kipf & Welling, GCN,
// ICLR 2017). The class is public for the validation split:
//   auto* cora = dynamic_cast<const lrb::datasets::Cora*>(&source);  cora->val(), cora->val_mask()
#pragma once
#include <string>

#include "datasets/dataset.h"
#include "datasets/options.h"

namespace lrb::datasets {

struct CoraOptions {
  CommonOptions common;        // path default <data_root>/cora/text; limits cut the train / test masks
  bool row_normalize = true;   // x rows divided by their sum, as Kipf's preprocess_features
  // Poisoning (docs/ATTACKS.md §3): the graph every split sees, so the model trains and is tested on it, is the
  // citation graph after `poison` ("random-edge" | "dice", core/graph_edges.h) with
  // int(poison_rate x 5,278) flips drawn from poison_seed; "none" (the default) is the clean graph, and
  // evaluation-time attacks (evasion) are the suite's threats.
  std::string poison = "none";
  double poison_rate = 0.1;
  int64_t poison_seed = 0;
  std::string poison_caveat() const;
  static CoraOptions from(const Config& c);
};

class Cora final : public DatasetSource {
 public:
  static constexpr int64_t kNodes = 2708, kFeatures = 1433, kEdges = 5278;
  Cora(CoraOptions o, const DataContext& ctx);
  std::string key() const override { return "cora"; }
  Modality modality() const override { return Modality::kGraph; }
  int64_t num_classes() const override { return 7; }
  void load() override;
  // The whole graph each time; only the mask differs (140 train / 500 val / 1000 test nodes).
  const Batch& train() const override;
  const Batch& test() const override;
  const Batch& val() const;
  const Batch* validation() const override { return &val_; }
  const torch::Tensor& val_mask() const { return val().mask; }
  InputSpec input_spec() const override;
  std::string label() const override { return labelled("cora", o_.common.caveat(), o_.poison_caveat()); }
  std::vector<FileCheck> verify() const override;

 private:
  torch::Tensor poisoned(const torch::Tensor& edges, const torch::Tensor& y) const;  // the options' poison applied
  CoraOptions o_;
  std::string dir_;
  Batch train_, val_, test_;
  bool loaded_ = false;
};

}  // namespace lrb::datasets
