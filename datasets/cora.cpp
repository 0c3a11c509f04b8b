// Cora (Planetoid split): 2708 papers, 1433 binary bag-of-words features, 7 classes, 5278 undirected citation
// edges; train = nodes 0..139, val = 140..639, test = 1000 nodes of test.index (Yang et al. 2016; Kipf & Welling
// 2017, github.com/tkipf/gcn utils.load_data). Read from the text conversion in cora/text/ (no pickles):
// cora.content (id, features, label), cora.cites (u<TAB>v, u<v), cora.split.{train,val,test}.txt; all sha256-checked.
// x float [2708,1433] (row-normalised by default, as preprocess_features), y int64, edge_index int64 [2,5278],
// adj = D^-1/2 (A+I) D^-1/2 sparse (as preprocess_adj). Options: path, row_normalize (true), limit_train,
// limit_test (first N nodes of the mask), poison / poison_rate / poison_seed (cora.h).
#include "datasets/cora.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/errors.h"
#include "core/graph.h"
#include "core/registry.h"
#include "datasets/formats.h"
#include "datasets/manifest.h"
#include "core/graph_edges.h"

namespace lrb::datasets {

namespace {

torch::Tensor node_mask(const std::vector<std::vector<int64_t>>& rows, int64_t limit, const std::string& file) {
  auto mask = torch::zeros({Cora::kNodes}, torch::kBool);
  int64_t taken = 0;
  for (const auto& r : rows) {
    if (r.size() != 1 || r[0] < 0 || r[0] >= Cora::kNodes)
      throw DataError(fmt::format("{}: bad node id line (expected one id 0..{})", file, Cora::kNodes - 1));
    if (limit > 0 && taken >= limit) break;
    mask[r[0]] = true;
    ++taken;
  }
  return mask;
}

}  // namespace

CoraOptions CoraOptions::from(const Config& c) {
  CoraOptions o;
  o.common.read(c);
  c.read("row_normalize", o.row_normalize);
  c.read_choice("poison", o.poison, {"none", "random-edge", "dice"});
  c.read("poison_rate", o.poison_rate, Range{0.0, 1.0, /*lo_open=*/true});  // as the graph attacks
  c.read("poison_seed", o.poison_seed, Range::at_least(0));
  return o;
}

std::string CoraOptions::poison_caveat() const {
  return poison == "none" ? "" : fmt::format("POISONED {} rate={} seed={}", poison, poison_rate, poison_seed);
}

Cora::Cora(CoraOptions o, const DataContext& ctx) : o_(std::move(o)), dir_(o_.common.dir(ctx, "cora/text")) {}

void Cora::load() {
  auto read = [&](const char* name) {
    std::string bytes = read_verified(dir_, name, expected("cora", name), "cora");
    try {
      return parse_int_rows(bytes);
    } catch (const std::invalid_argument& e) {
      throw DataError(fmt::format("{}: {}", locate(dir_, name), e.what()));
    }
  };
  const std::string content_file = locate(dir_, "cora.content");
  auto content = read("cora.content");
  if (static_cast<int64_t>(content.size()) != kNodes)
    throw DataError(fmt::format("{}: {} rows (expected {})", content_file, content.size(), kNodes));
  auto x = torch::zeros({kNodes, kFeatures}, torch::kFloat);
  auto y = torch::full({kNodes}, -1, torch::kLong);
  auto xa = x.accessor<float, 2>();
  auto ya = y.accessor<int64_t, 1>();
  for (const auto& r : content) {
    if (static_cast<int64_t>(r.size()) != kFeatures + 2 || r[0] < 0 || r[0] >= kNodes || r.back() < 0 ||
        r.back() > 6)
      throw DataError(fmt::format("{}: row of node {} has {} fields (expected id, {} features, label 0..6)",
                                  content_file, r.empty() ? -1 : r[0], r.size(), kFeatures));
    for (int64_t f = 0; f < kFeatures; ++f) xa[r[0]][f] = static_cast<float>(r[f + 1]);
    ya[r[0]] = r.back();
  }
  if ((y < 0).any().item<bool>()) throw DataError(fmt::format("{}: some node ids are missing", content_file));
  if (o_.row_normalize) {
    auto sum = x.sum(1, true);
    x = x / torch::where(sum > 0, sum, torch::ones_like(sum));  // empty rows stay zero, as r_inv[isinf] = 0
  }

  auto cites = read("cora.cites");
  auto edges = torch::empty({2, static_cast<int64_t>(cites.size())}, torch::kLong);
  auto ea = edges.accessor<int64_t, 2>();
  for (size_t e = 0; e < cites.size(); ++e) {
    const auto& r = cites[e];
    if (r.size() != 2 || r[0] < 0 || r[0] >= r[1] || r[1] >= kNodes)
      throw DataError(fmt::format("{}: edge line {} is not 'u<TAB>v' with 0 <= u < v < {}", locate(dir_, "cora.cites"),
                                  e + 1, kNodes));
    ea[0][e] = r[0], ea[1][e] = r[1];
  }

  if (o_.poison != "none") edges = poisoned(edges, y);

  Batch g;
  g.modality = Modality::kGraph;
  g.x = x;
  g.y = y;
  g.edge_index = edges;
  g.adj = lrb::normalized_adjacency(edges, kNodes);
  train_ = val_ = test_ = g;
  train_.mask = node_mask(read("cora.split.train.txt"), o_.common.limit_train, "cora.split.train.txt");
  val_.mask = node_mask(read("cora.split.val.txt"), 0, "cora.split.val.txt");
  test_.mask = node_mask(read("cora.split.test.txt"), o_.common.limit_test, "cora.split.test.txt");
  loaded_ = true;
}

torch::Tensor Cora::poisoned(const torch::Tensor& edges, const torch::Tensor& y) const {
  std::vector<graph::Edge> list(edges.size(1));
  auto ea = edges.accessor<int64_t, 2>();
  for (int64_t e = 0; e < edges.size(1); ++e) list[e] = {ea[0][e], ea[1][e]};
  std::vector<graph::Edge> out;
  try {
    list = graph::canonical(std::move(list), kNodes);
    const int64_t n = graph::budget(o_.poison_rate, static_cast<int64_t>(list.size()));
    const auto seed = static_cast<uint64_t>(o_.poison_seed);
    std::vector<int64_t> labels(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + kNodes);
    out = graph::perturbed(list, o_.poison == "dice" ? graph::dice(list, labels, n, seed)
                                                     : graph::random_insert(list, kNodes, n, seed));
  } catch (const std::invalid_argument& e) {
    throw DataError(fmt::format("{}: poison {}: {}", locate(dir_, "cora.cites"), o_.poison, e.what()));
  }
  auto t = torch::empty({2, static_cast<int64_t>(out.size())}, torch::kLong);
  auto ta = t.accessor<int64_t, 2>();
  for (size_t e = 0; e < out.size(); ++e) ta[0][e] = out[e].first, ta[1][e] = out[e].second;
  return t;
}

const Batch& Cora::train() const {
  TORCH_CHECK(loaded_, "cora: train() before load()");
  return train_;
}

const Batch& Cora::val() const {
  TORCH_CHECK(loaded_, "cora: val() before load()");
  return val_;
}

const Batch& Cora::test() const {
  TORCH_CHECK(loaded_, "cora: test() before load()");
  return test_;
}

InputSpec Cora::input_spec() const {
  InputSpec s;
  s.shape = {kFeatures};
  return s;
}

std::vector<FileCheck> Cora::verify() const {
  std::vector<FileCheck> out;
  for (const char* f : {"cora.content", "cora.cites", "cora.split.train.txt", "cora.split.val.txt", "cora.split.test.txt"})
    out.push_back(check_file(dir_, f, expected("cora", f), "cora"));
  return out;
}

}  // namespace lrb::datasets

LRB_REGISTER(lrb::DatasetSource, "cora", "Cora citation graph, Planetoid split 140/500/1000, 7 classes (text files)",
             [](const lrb::Config& c, const lrb::DataContext& ctx) -> lrb::DatasetSource::Ptr {
               using namespace lrb::datasets;
               return std::make_unique<Cora>(CoraOptions::from(c), ctx);
             });
