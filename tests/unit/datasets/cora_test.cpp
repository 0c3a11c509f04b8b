// Cora (Planetoid split) from the text conversion.
#include "core/errors.h"
#include "core/graph.h"
#include "datasets/cora.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

using datasets::Cora;

TEST(Cora, GraphShapesClassesAndSplits) {
  LRB_REQUIRE_DATA("cora/text/cora.content");
  auto src = load_source("name: cora\n");
  const auto& cora = dynamic_cast<const Cora&>(*src);
  const Batch& tr = src->train();
  EXPECT_EQ(tr.modality, Modality::kGraph);
  EXPECT_EQ(tr.x.sizes(), (std::vector<int64_t>{2708, 1433}));
  EXPECT_EQ(tr.y.sizes(), (std::vector<int64_t>{2708}));
  EXPECT_EQ(tr.y.scalar_type(), torch::kLong);
  EXPECT_EQ(tr.edge_index.sizes(), (std::vector<int64_t>{2, 5278}));
  EXPECT_EQ(tr.edge_index.scalar_type(), torch::kLong);
  EXPECT_TRUE((tr.edge_index[0] < tr.edge_index[1]).all().item<bool>());
  const int64_t counts[] = {351, 217, 418, 818, 426, 298, 180};
  for (int c = 0; c < 7; ++c) {
    EXPECT_EQ(count_of(tr.y, c), counts[c]);
    EXPECT_EQ(count_of(tr.targets(), c), 20);
  }
  EXPECT_EQ(tr.size(), 140);
  EXPECT_EQ(cora.val().size(), 500);
  EXPECT_EQ(cora.val_mask().sum().item<int64_t>(), 500);
  EXPECT_EQ(src->test().size(), 1000);
  EXPECT_TRUE(tr.mask.slice(0, 0, 140).all().item<bool>());
  EXPECT_TRUE(src->test().mask.slice(0, 1708).all().item<bool>());
  EXPECT_FALSE((tr.mask & src->test().mask).any().item<bool>());
  EXPECT_FALSE((tr.mask & cora.val_mask()).any().item<bool>());
  EXPECT_TRUE(src->test().x.is_same(tr.x));  // one graph, three masks
  EXPECT_EQ(src->num_classes(), 7);
  EXPECT_EQ(src->label(), "cora");
  EXPECT_EQ(src->input_spec().shape, (std::vector<int64_t>{1433}));
  // Row-normalised features: each non-empty row sums to 1.
  auto sums = tr.x.sum(1);
  EXPECT_TRUE(torch::allclose(sums.masked_select(sums > 0), torch::ones({1}), 1e-5, 1e-5));
  for (const auto& c : src->verify()) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

TEST(Cora, NormalisedAdjacencyIsSymmetricWithTheRowSumProperty) {
  LRB_REQUIRE_DATA("cora/text/cora.content");
  auto src = load_source("name: cora\n");
  const torch::Tensor& adj = src->train().adj;
  ASSERT_TRUE(adj.is_sparse());
  EXPECT_TRUE(adj.is_coalesced());
  EXPECT_EQ(adj.sizes(), (std::vector<int64_t>{2708, 2708}));
  EXPECT_EQ(adj._nnz(), 2 * 5278 + 2708);
  // Symmetric: the transpose has the same entries.
  auto t = adj.t().coalesce();
  EXPECT_TRUE(torch::equal(t.indices(), adj.indices()));
  EXPECT_TRUE(torch::allclose(t.values(), adj.values()));
  // With d = degree of A+I (entries per row): diag = 1/d and A_hat sqrt(d) = sqrt(d).
  auto idx = adj.indices();
  auto d = torch::zeros({2708}).index_add_(0, idx[0], torch::ones({adj._nnz()}));
  auto diag = (idx[0] == idx[1]);
  EXPECT_EQ(diag.sum().item<int64_t>(), 2708);
  EXPECT_TRUE(torch::allclose(adj.values().masked_select(diag), 1 / d, 1e-6, 1e-6));
  auto s = torch::mm(adj, d.sqrt().unsqueeze(1)).squeeze(1);
  EXPECT_TRUE(torch::allclose(s, d.sqrt(), 1e-4, 1e-5));
  // Every edge of edge_index (and only those, plus self-loops) is in adj.
  const auto& ei = src->train().edge_index;
  auto off = idx.masked_select(~diag.unsqueeze(0)).view({2, -1});
  auto upper = off.index({torch::indexing::Slice(), off[0] < off[1]});
  EXPECT_TRUE(torch::equal(std::get<0>(torch::sort(upper[0] * 2708 + upper[1])),
                           std::get<0>(torch::sort(ei[0] * 2708 + ei[1]))));
}

TEST(Cora, RawFeaturesAndLimits) {
  LRB_REQUIRE_DATA("cora/text/cora.content");
  auto src = load_source("name: cora\nrow_normalize: false\nlimit_train: 70\nlimit_test: 100\n");
  const Batch& tr = src->train();
  EXPECT_EQ(tr.x.count_nonzero().item<int64_t>(), 49216);
  EXPECT_TRUE(((tr.x == 0) | (tr.x == 1)).all().item<bool>());
  EXPECT_EQ(tr.size(), 70);
  EXPECT_EQ(src->test().size(), 100);
  EXPECT_EQ(src->label(), "cora [limit_train=70, limit_test=100]");
}

// Poisoning: every split sees the perturbed graph (int(0.2 x 5278) = 1055 flips), Â is rebuilt from it, the
// result says so, and the seed fixes the graph.
TEST(Cora, PoisonPerturbsTheGraphOfEverySplit) {
  LRB_REQUIRE_DATA("cora/text/cora.content");
  auto clean = load_source("name: cora\n");
  auto ra = load_source("name: cora\npoison: random-edge\npoison_rate: 0.2\npoison_seed: 3\n");
  EXPECT_EQ(ra->train().edge_index.size(1), 5278 + 1055);
  EXPECT_TRUE(ra->test().edge_index.equal(ra->train().edge_index));
  EXPECT_EQ(ra->train().adj._nnz(), 2708 + 2 * (5278 + 1055));
  EXPECT_EQ(ra->label(), "cora [POISONED random-edge rate=0.2 seed=3]");
  EXPECT_TRUE(ra->train().mask.equal(clean->train().mask));
  auto again = load_source("name: cora\npoison: random-edge\npoison_rate: 0.2\npoison_seed: 3\n");
  EXPECT_TRUE(again->train().edge_index.equal(ra->train().edge_index));
  auto other = load_source("name: cora\npoison: random-edge\npoison_rate: 0.2\npoison_seed: 4\n");
  EXPECT_FALSE(other->train().edge_index.equal(ra->train().edge_index));
  // DICE: removals (same label) and insertions (different labels) add up to the budget.
  auto dice = load_source("name: cora\npoison: dice\npoison_rate: 0.2\n");
  const auto& d = dice->train();
  auto key = [](const torch::Tensor& ei) { return ei[0] * 2708 + ei[1]; };
  auto before = key(clean->train().edge_index), after = key(d.edge_index);
  auto removed = before.masked_select(~torch::isin(before, after)), inserted = after.masked_select(~torch::isin(after, before));
  EXPECT_EQ(removed.numel() + inserted.numel(), 1055);
  const auto& y = d.y;
  EXPECT_TRUE(y.index_select(0, removed.div(2708, "floor")).equal(y.index_select(0, removed.remainder(2708))));
  EXPECT_FALSE(y.index_select(0, inserted.div(2708, "floor")).eq(y.index_select(0, inserted.remainder(2708))).any().item<bool>());
  // Bad settings stop at the config, as the graph attacks' (rate in (0, 1]).
  EXPECT_THROW(load_source("name: cora\npoison: dcie\n"), ConfigError);
  EXPECT_THROW(load_source("name: cora\npoison: dice\npoison_rate: 0\n"), ConfigError);
  EXPECT_THROW(load_source("name: cora\npoison: dice\npoison_rate: 1.5\n"), ConfigError);
}

TEST(Cora, AdjacencyOfEditedEdgesIgnoresDuplicates) {
  auto ei = torch::tensor({0, 0, 1, 1, 1, 2}, torch::kLong).view({2, 3});  // edges 0-1, 0-1 (dup), 1-2
  auto dense = lrb::normalized_adjacency(ei, 3).to_dense();
  // degrees with self-loops: 2, 3, 2
  EXPECT_NEAR(dense[0][1].item<float>(), 1 / std::sqrt(6.f), 1e-6);
  EXPECT_NEAR(dense[1][1].item<float>(), 1 / 3.f, 1e-6);
  EXPECT_NEAR(dense[0][2].item<float>(), 0.f, 1e-9);
}

}  // namespace
}  // namespace lrb::test
