// A tiny text world for the text-threat tests: a 14-word vocabulary whose WordNet synonyms are known
// (film -> movie; good -> sound; great -> big, large; big -> bad, great, large; dogs -> dog; awful -> none in
// it), and a hand-set bag-of-words classifier, so attack results can be worked out by hand.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "threats/threat.h"

namespace lrb::test {

// ids:                                 0        1        2      3       4       5       6       7
inline const std::vector<std::string> kToyWords = {"<pad>", "<unk>", "the", "film", "movie", "good", "sound", "great",
                                                   // 8     9        10     11       12      13
                                                   "big", "large", "bad", "awful", "dogs", "dog"};
enum ToyId : int64_t { kPad, kUnk, kThe, kFilm, kMovie, kGood, kSound, kGreat, kBig, kLarge, kBad, kAwful, kDogs, kDog };

inline std::shared_ptr<const TextVocab> toy_vocab() { return std::make_shared<const TextVocab>(kToyWords, kPad, kUnk); }

inline ThreatContext text_context() {
  ThreatContext ctx;
  ctx.input.shape = {16};
  ctx.input.vocab_size = static_cast<int64_t>(kToyWords.size());
  ctx.num_classes = 2;
  ctx.vocab = toy_vocab();
  return ctx;
}

// Class 1's logit is bias + the sum of each word's weight d over the first `length` tokens; class 0's is 0.
// So p(class 1) = sigmoid(s), s = bias + sum d.
class BagOfWords : public ClassifierImpl {
 public:
  explicit BagOfWords(double bias) : bias_(bias) {
    //                        pad unk the film movie good sound great  big  large bad awful dogs dog
    weights_ = torch::tensor({0.0, 0.0, 0.0, 0.0, 0.4, -1.5, 0.5, -1.0, -0.2, 0.3, 1.0, 0.0, 0.0, 0.0}, torch::kDouble);
  }
  std::string key() const override { return "bag-of-words"; }
  Modality modality() const override { return Modality::kText; }
  torch::Tensor forward(const Batch& b) override {
    ++calls;
    auto w = weights_.index({b.x});
    auto keep = torch::arange(b.x.size(1), torch::kLong).unsqueeze(0) < b.lengths.unsqueeze(1);
    auto s = (w * keep).sum(1) + bias_;
    return torch::stack({torch::zeros_like(s), s}, 1);
  }
  int64_t calls = 0;

 private:
  double bias_;
  torch::Tensor weights_;
};

// One text batch padded to T = 16 (label 0 for every row unless given).
inline Batch text_batch(const std::vector<std::vector<int64_t>>& docs, std::vector<int64_t> labels = {}) {
  const auto n = static_cast<int64_t>(docs.size());
  if (labels.empty()) labels.assign(n, 0);
  Batch b;
  b.modality = Modality::kText;
  b.x = torch::full({n, 16}, kPad, torch::kLong);
  b.lengths = torch::empty({n}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    for (size_t t = 0; t < docs[i].size(); ++t) b.x[i][t] = docs[i][t];
    b.lengths[i] = static_cast<int64_t>(docs[i].size());
  }
  b.y = torch::tensor(labels, torch::kLong);
  return b;
}

inline std::vector<int64_t> row_ids(const Batch& b, int64_t row) {
  const int64_t n = b.lengths[row].item<int64_t>();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < n; ++t) out.push_back(b.x[row][t].item<int64_t>());
  return out;
}

}  // namespace lrb::test
