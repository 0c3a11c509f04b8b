// AG News: Zhang, Zhao, LeCun, "Character-level Convolutional Networks for Text Classification", NeurIPS 2015
// (ag_news_csv: 120000 train / 7600 test, 4 classes). Rows: "class 1..4","title","description", every field quoted,
// inner quotes doubled. The corpus writes line breaks as a single backslash ("second\team" = "second team"), so a
// backslash becomes a space; "\n" is NOT special-cased: in test.csv all 11 such pairs start a word ("\network").
// Text = title + " " + description -> tokenize() -> ids of a vocabulary built on the training split only.
// Options: path (default <data_root>/ag_news), max_len 100, min_freq 1, max_vocab 30000, unescape true,
// split_from_test 0, limit_train, limit_test. Without train.csv the loader refuses unless split_from_test: N,
// which trains on N seeded (derive_seed(seed, "ag-news-split")), class-stratified rows of test.csv and tests on the
// rest; label() then says so, so every result carries it.
#include "datasets/ag_news.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>

#include "core/errors.h"
#include "core/registry.h"
#include "core/seed.h"
#include "datasets/manifest.h"

namespace lrb::datasets {

std::vector<int64_t> stratified_pick(const std::vector<int64_t>& labels, int64_t n_train, uint64_t seed) {
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t i = 0; i < static_cast<int64_t>(labels.size()); ++i) by_class[labels[i]].push_back(i);
  // Quotas by largest remainder, so the classes keep their proportions and the total is exactly n_train.
  const double total = static_cast<double>(labels.size());
  std::vector<std::pair<double, int64_t>> remainders;
  std::map<int64_t, int64_t> quota;
  int64_t given = 0;
  for (auto& [c, idx] : by_class) {
    const double exact = n_train * (idx.size() / total);
    quota[c] = static_cast<int64_t>(std::floor(exact));
    given += quota[c];
    remainders.emplace_back(exact - std::floor(exact), c);
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < n_train && k < remainders.size(); ++k, ++given) ++quota[remainders[k].second];
  // Fisher-Yates on a splitmix64 stream: the same split on every platform and standard library.
  uint64_t state = seed;
  std::vector<int64_t> picked;
  for (auto& [c, idx] : by_class) {
    for (int64_t i = static_cast<int64_t>(idx.size()) - 1; i > 0; --i) {
      state = splitmix64(state);
      std::swap(idx[i], idx[state % static_cast<uint64_t>(i + 1)]);
    }
    picked.insert(picked.end(), idx.begin(), idx.begin() + quota[c]);
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

AgNewsOptions AgNewsOptions::from(const Config& c) {
  AgNewsOptions o;
  o.common.read(c);
  c.read("max_len", o.max_len, Range::at_least(1));
  c.read("min_freq", o.min_freq, Range::at_least(1));
  c.read("max_vocab", o.max_vocab, Range::at_least(3));
  c.read("split_from_test", o.split_from_test, Range::at_least(1));
  c.read("unescape", o.unescape);
  o.split_where = c.where("split_from_test");
  return o;
}

AgNews::AgNews(AgNewsOptions o, const DataContext& ctx)
    : o_(std::move(o)), dir_(o_.common.dir(ctx, "ag_news")), seed_(derive_seed(ctx.seed, "ag-news-split")) {
  have_train_csv_ = !locate(dir_, "train.csv").empty();
}

void AgNews::load() {
  auto test_rows = parse_ag_news_csv(read_verified(dir_, "test.csv", expected("ag-news", "test.csv"), "ag-news"),
                                     locate(dir_, "test.csv"), o_.unescape);
  have_train_csv_ = !locate(dir_, "train.csv").empty();
  std::vector<AgNewsRow> train_rows;
  if (o_.split_from_test > 0) {
    const auto n = static_cast<int64_t>(test_rows.size());
    if (o_.split_from_test >= n)
      throw ConfigError(o_.split_where, fmt::format("split_from_test: {} leaves no test rows (test.csv has {} rows)",
                                                    o_.split_from_test, n));
    std::vector<int64_t> labels;
    for (const auto& r : test_rows) labels.push_back(r.label);
    auto pick = stratified_pick(labels, o_.split_from_test, seed_);
    std::vector<char> in_train(n, 0);
    for (auto i : pick) in_train[i] = 1;
    std::vector<AgNewsRow> rest;
    for (int64_t i = 0; i < n; ++i) (in_train[i] ? train_rows : rest).push_back(std::move(test_rows[i]));
    test_rows = std::move(rest);
  } else if (have_train_csv_) {
    train_rows = parse_ag_news_csv(read_verified(dir_, "train.csv", expected("ag-news", "train.csv"), "ag-news"),
                                   locate(dir_, "train.csv"), o_.unescape);
  } else {
    throw DataError(fmt::format(
        "{}/train.csv: missing (also looked for train.csv.gz; expected {}, the official ag_news_csv training split); "
        "{}, or set split_from_test: N to train on a seeded part of test.csv",
        dir_, describe(expected("ag-news", "train.csv")), fetch_hint("ag-news")));
  }
  if (o_.common.limit_train > 0 && o_.common.limit_train < static_cast<int64_t>(train_rows.size()))
    train_rows.resize(o_.common.limit_train);
  if (o_.common.limit_test > 0 && o_.common.limit_test < static_cast<int64_t>(test_rows.size()))
    test_rows.resize(o_.common.limit_test);

  std::vector<std::vector<std::string>> train_tokens;
  std::vector<int64_t> train_labels, test_labels;
  train_texts_.clear(), test_texts_.clear(), test_tokens_.clear(), test_title_sizes_.clear();
  for (auto& r : train_rows) {
    train_tokens.push_back(tokenize(r.text));
    train_labels.push_back(r.label);
    train_texts_.push_back(std::move(r.text));
  }
  for (auto& r : test_rows) {
    test_tokens_.push_back(tokenize(r.text));
    test_labels.push_back(r.label);
    test_title_sizes_.push_back(r.title_size);
    test_texts_.push_back(std::move(r.text));
  }
  vocab_ = Vocab::build(train_tokens, o_.max_vocab, o_.min_freq);
  train_ = encode(train_tokens, train_labels);
  test_ = encode(test_tokens_, test_labels);
  loaded_ = true;
}

Batch AgNews::encode(const std::vector<std::vector<std::string>>& docs, const std::vector<int64_t>& labels) const {
  TORCH_CHECK(docs.size() == labels.size(), "AgNews::encode: ", docs.size(), " documents but ", labels.size(),
              " labels");
  const auto n = static_cast<int64_t>(docs.size());
  auto ids = torch::full({n, o_.max_len}, Vocab::kPad, torch::kLong);
  auto lengths = torch::empty({n}, torch::kLong);
  auto id_acc = ids.accessor<int64_t, 2>();
  auto len_acc = lengths.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = std::min<int64_t>(static_cast<int64_t>(docs[i].size()), o_.max_len);
    for (int64_t t = 0; t < len; ++t) id_acc[i][t] = vocab_.id(docs[i][t]);
    // An empty text becomes one <unk>, so recurrent models never see a zero-length sequence.
    if (len == 0) id_acc[i][0] = Vocab::kUnk;
    len_acc[i] = std::max<int64_t>(len, 1);
  }
  Batch b;
  b.modality = Modality::kText;
  b.x = ids;
  b.lengths = lengths;
  b.y = torch::tensor(labels, torch::kLong);
  return b;
}

std::vector<std::vector<int32_t>> AgNews::test_sentences() const {
  TORCH_CHECK(loaded_, "ag-news: test_sentences() before load()");
  std::vector<std::vector<int32_t>> out;
  out.reserve(test_texts_.size());
  for (size_t i = 0; i < test_texts_.size(); ++i) {
    auto ids = sentence_ids(test_texts_[i], {test_title_sizes_[i]});
    if (static_cast<int64_t>(ids.size()) > o_.max_len) ids.resize(o_.max_len);
    if (ids.empty()) ids.push_back(0);  // encode() makes an empty text one <unk>
    out.push_back(std::move(ids));
  }
  return out;
}

const Batch& AgNews::train() const {
  TORCH_CHECK(loaded_, "ag-news: train() before load()");
  return train_;
}

const Batch& AgNews::test() const {
  TORCH_CHECK(loaded_, "ag-news: test() before load()");
  return test_;
}

InputSpec AgNews::input_spec() const {
  InputSpec s;
  s.shape = {o_.max_len};
  s.vocab_size = vocab_.size();
  s.pad_index = Vocab::kPad;
  return s;
}

std::string AgNews::label() const {
  std::string split;
  if (o_.split_from_test > 0)
    split = fmt::format("train split_from_test={} of test.csv; {}", o_.split_from_test,
                        have_train_csv_ ? "official train.csv unused" : "no official train.csv");
  return labelled("ag-news", split, o_.common.caveat());
}

std::vector<FileCheck> AgNews::verify() const {
  std::vector<FileCheck> out{check_file(dir_, "test.csv", expected("ag-news", "test.csv"), "ag-news")};
  if (!locate(dir_, "train.csv").empty()) {
    out.push_back(check_file(dir_, "train.csv", expected("ag-news", "train.csv"), "ag-news"));
  } else {
    FileCheck fc;
    fc.file = dir_ + "/train.csv";
    fc.ok = o_.split_from_test > 0;
    fc.detail = fmt::format("missing (expected {}); {}", describe(expected("ag-news", "train.csv")),
                            fc.ok ? fmt::format("not needed: split_from_test={} trains on part of test.csv",
                                                o_.split_from_test)
                                  : fetch_hint("ag-news") + ", or set split_from_test: N");
    out.push_back(fc);
  }
  return out;
}

}  // namespace lrb::datasets

LRB_REGISTER(lrb::DatasetSource, "ag-news", "AG News topic classification, 4 classes (ag_news_csv; word ids)",
             [](const lrb::Config& c, const lrb::DataContext& ctx) -> lrb::DatasetSource::Ptr {
               using namespace lrb::datasets;
               return std::make_unique<AgNews>(AgNewsOptions::from(c), ctx);
             });
