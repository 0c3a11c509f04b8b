#include "models/chain.h"

#include <torch/torch.h>

namespace lrb {

const torch::Tensor& Flow::input(int k) const {
  if (k <= from_) return trace_->inputs[k];
  TORCH_CHECK(live_[k].defined(), "ChainModel: a glue reads site ", k, "'s input, which the model did not declare with "
              "keep_input(", k, ")");
  return live_[k];
}

std::pair<torch::Tensor, torch::Tensor> Flow::skip_operands(const torch::Tensor& x, int k) const {
  const auto& s = input(k);
  if (k > from_ || copies_ == 1 || s.size(0) == x.size(0)) return {x, s};
  auto shape = s.sizes().vec();
  shape.insert(shape.begin(), copies_);
  return {x.view(shape), s.unsqueeze(0)};
}

torch::Tensor Flow::add_skip(const torch::Tensor& x, int k) const {
  auto [rows, skip] = skip_operands(x, k);
  auto sum = rows + skip;
  return sum.dim() == x.dim() ? sum : sum.flatten(0, 1);
}

torch::Tensor Flow::add_skip_into(const torch::Tensor& x, int k) const {
  if (torch::GradMode::is_enabled()) return add_skip(x, k);
  auto [rows, skip] = skip_operands(x, k);
  rows.add_(skip);
  return x;
}

torch::Tensor Flow::relu(const torch::Tensor& z) const { return scratch_ ? z.relu_() : torch::relu(z); }

torch::Tensor Flow::relu_pool(const torch::Tensor& z, int64_t k) const {
  auto p = torch::max_pool2d(z, k);
  return torch::GradMode::is_enabled() ? torch::relu(p) : p.relu_();
}

namespace {
torch::Tensor tile_rows_if(const torch::Tensor& t, int64_t copies) { return t.defined() ? tile_rows(t, copies) : t; }
}  // namespace

// Runs sites from+1.. on `z` (site `from`'s pre-activation); from = -1 runs the whole chain on the input.
torch::Tensor ChainModel::run(int from, torch::Tensor z, Flow& flow) {
  const bool own = !layer_hook && !torch::GradMode::is_enabled();
  for (int l = from + 1; l < static_cast<int>(sites_.size()); ++l) {
    flow.scratch_ = own && l > from + 1;
    auto x = glue_[l](z, flow);
    if (from < 0 || (l < static_cast<int>(keep_.size()) && keep_[l])) flow.live_[l] = x;
    z = layer_hook ? call_layer(l, sites_[l], x, tile_rows_if(live_rows(l, flow.batch()), flow.copies())) : sites_[l](x);
  }
  flow.scratch_ = own && static_cast<int>(sites_.size()) > from + 1;
  return head_ ? head_(z, flow) : z;
}

ForwardTrace ChainModel::trace(const Batch& batch) {
  Flow flow;
  flow.batch_ = &batch;
  flow.live_.resize(sites_.size());
  ForwardTrace t;
  t.logits = run(-1, prepare(batch), flow);
  t.inputs = std::move(flow.live_);
  t.batch = batch;
  return t;
}

torch::Tensor ChainModel::forward_copies(const Batch& batch, int64_t copies) {
  Flow flow;
  flow.batch_ = &batch;
  flow.copies_ = copies;
  flow.live_.resize(sites_.size());
  return run(-1, tile_rows(prepare(batch), copies), flow);
}

torch::Tensor ChainModel::forward_from(int l, const torch::Tensor& z, const ForwardTrace& trace, int64_t copies) {
  TORCH_CHECK(l >= 0 && l < static_cast<int>(sites_.size()), "forward_from: site ", l, " out of range");
  Flow flow;
  flow.from_ = l;
  flow.copies_ = copies;
  flow.trace_ = &trace;
  flow.batch_ = &trace.batch;
  flow.live_.resize(sites_.size());
  return run(l, z, flow);
}

void ChainModel::finish_chain(const std::vector<int64_t>& example_shape) {
  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), example_shape.begin(), example_shape.end());
  Batch probe;
  // host: a shape probe at construction, when the module is still on the host
  probe.x = torch::zeros(shape);
  finish_chain(probe);
}

void ChainModel::finish_chain(const Batch& probe) {
  torch::NoGradGuard no_grad;
  auto hook = layer_hook;
  preact_.clear();
  layer_hook = [this](int l, const torch::Tensor& x, const torch::Tensor&) {
    auto z = sites_[l](x);
    preact_.push_back(z.numel() / std::max<int64_t>(z.size(0), 1));
    return z;
  };
  Flow flow;
  flow.batch_ = &probe;
  flow.live_.resize(sites_.size());
  run(-1, prepare(probe), flow);
  layer_hook = hook;
}

}  // namespace lrb
