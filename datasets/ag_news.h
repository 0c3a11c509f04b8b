// AG News topic classification (World, Sports, Business, Sci/Tech) in the original ag_news_csv format.
// The class is public so text attacks can reach the vocabulary and the words:
//   auto* ag = dynamic_cast<const lrb::datasets::AgNews*>(&source);  ag->vocab(), ag->texts(false), ...
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/formats.h"
#include "datasets/options.h"
#include "datasets/tokenizer.h"

namespace lrb::datasets {

struct AgNewsOptions {
  CommonOptions common;        // path default <data_root>/ag_news
  int64_t max_len = 100;       // tokens per example; longer texts are cut, shorter padded with <pad>
  int64_t min_freq = 1;        // vocabulary: minimum count in the training split
  int64_t max_vocab = 30000;   // vocabulary size including <pad> and <unk>
  int64_t split_from_test = 0; // > 0: train on this many seeded, class-stratified rows of test.csv, test on the rest
  bool unescape = true;        // undo the corpus' HTML remnants (" #39;s" -> "'s", "&lt;" -> "<")
  std::string split_where;     // config location of split_from_test, for errors found at load()
  static AgNewsOptions from(const Config& c);
};

// Row indices of a seeded, class-stratified hold-out of `n_train` rows (sorted); the rest is the test split.
std::vector<int64_t> stratified_pick(const std::vector<int64_t>& labels, int64_t n_train, uint64_t seed);

class AgNews final : public DatasetSource {
 public:
  AgNews(AgNewsOptions o, const DataContext& ctx);
  std::string key() const override { return "ag-news"; }
  Modality modality() const override { return Modality::kText; }
  int64_t num_classes() const override { return 4; }
  void load() override;
  const Batch& train() const override;
  const Batch& test() const override;
  InputSpec input_spec() const override;
  std::string label() const override;
  std::vector<FileCheck> verify() const override;

  const Vocab& vocab() const { return vocab_; }
  // Cleaned "title description" of every example, in the order of train()/test() rows.
  const std::vector<std::string>& texts(bool train) const { return train ? train_texts_ : test_texts_; }
  // Tokens of the test split (untruncated), for word-level attacks.
  const std::vector<std::vector<std::string>>& test_tokens() const { return test_tokens_; }
  static std::vector<std::string> class_names() { return {"World", "Sports", "Business", "Sci/Tech"}; }
  const Vocab* vocabulary() const override { return &vocab_; }
  // Sentences by datasets/tokenizer.h's sentence_ids(), with the title always a sentence of its own
  // (AG News titles rarely end with punctuation), cut to max_len like the token ids.
  std::vector<std::vector<int32_t>> test_sentences() const override;
  // Batch of token ids [N,max_len] + lengths from tokenised documents (for perturbed texts).
  Batch encode(const std::vector<std::vector<std::string>>& docs, const std::vector<int64_t>& labels) const;

 private:
  AgNewsOptions o_;
  std::string dir_;
  uint64_t seed_;
  bool have_train_csv_ = false;
  Vocab vocab_;
  std::vector<std::string> train_texts_, test_texts_;
  std::vector<std::vector<std::string>> test_tokens_;
  std::vector<size_t> test_title_sizes_;
  Batch train_, test_;
  bool loaded_ = false;
};

}  // namespace lrb::datasets
