// shuffle: the paper's "Shuffle" for text (Table 2): "random shuffles words in sentences". The words of each
// sentence are permuted uniformly at random (every permutation equally likely, the identity included), and
// never move to another sentence; padding stays where it is. Sentences come from the dataset
// (ThreatContext::sentences, DatasetSource::test_sentences): for AG News the splitter of
// datasets/tokenizer.h's sentence_ids() on the raw text (the title is a sentence of its own; then '.', '!'
// or '?' before whitespace and a capital, except after initials and title abbreviations), because the token
// ids keep no punctuation to split on. Source: docs/ATTACKS.md §4 (Shuffle, text; "splitter not given").
// Deviation: none beyond the splitter, which the paper does not give; one-word sentences are unchanged.
#include "core/errors.h"
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Shuffle : public Corruption {
 public:
  struct Options {
    static Options from(const Config& c) {
      c.has("name");
      return {};
    }
  };
  explicit Shuffle(const Options&) {}

  std::string key() const override { return "shuffle"; }
  std::string metric() const override { return "Shuffle"; }
  std::string params() const override { return "within=sentence;splitter=dataset"; }
  std::vector<Modality> modalities() const override { return {Modality::kText}; }

  // int64 [T]: the source position of each output position (identity beyond the length and across sentences).
  torch::Tensor draw(const Batch& example, const ThreatContext& ctx, at::Generator& gen) const override {
    TORCH_CHECK(example.x.dim() == 2 && example.x.size(0) == 1 && example.lengths.defined(),
                "shuffle: needs a 1-example text batch (ids [1,T] + lengths)");
    if (!ctx.sentences || ctx.example < 0 || ctx.example >= static_cast<int64_t>(ctx.sentences->size()))
      throw std::invalid_argument("shuffle: draw() needs the context's sentences and the example's row (use corrupt())");
    const auto& sid = (*ctx.sentences)[ctx.example];
    const int64_t T = example.x.size(1), n = std::min(example.lengths[0].item<int64_t>(), T);
    // host: per-example draws from a host generator (corrupt()); apply() moves them
    auto source = torch::arange(T, torch::kLong);
    auto* src = source.data_ptr<int64_t>();
    // Tokens past the dataset's list (none for AG News) join the last sentence.
    auto sentence = [&](int64_t t) { return sid.empty() ? 0 : sid[std::min<size_t>(t, sid.size() - 1)]; };
    for (int64_t begin = 0; begin < n;) {
      int64_t end = begin + 1;
      while (end < n && sentence(end) == sentence(begin)) ++end;
      auto order = at::randperm(end - begin, gen, torch::kLong);  // host: the example's draw, as above
      const auto* o = order.data_ptr<int64_t>();
      for (int64_t j = 0; j < end - begin; ++j) src[begin + j] = begin + o[j];
      begin = end;
    }
    return source;
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext&) const override {
    TORCH_CHECK(clean.x.dim() == 2 && clean.lengths.defined(), "shuffle: needs text (ids [B,T] + lengths)");
    pixel::check_draws(key(), clean, draws);
    auto src = draws.to(clean.x.device(), torch::kLong);
    const int64_t T = clean.x.size(1);
    auto pos = torch::arange(T, clean.lengths.options()).unsqueeze(0).expand_as(src);
    auto beyond = pos >= clean.lengths.unsqueeze(1);
    if (src.lt(0).logical_or(src.ge(T)).any().item<bool>() || src.ne(pos).logical_and(beyond).any().item<bool>() ||
        !std::get<0>(src.sort(1)).equal(pos))
      throw std::invalid_argument("shuffle: each draw must permute its example's positions and leave padding alone");
    Batch out = clean;
    out.x = clean.x.gather(1, src);
    return out;
  }

  void check(const ThreatContext& ctx) const override {
    if (!ctx.sentences)
      throw ConfigError("shuffle needs sentence boundaries from a text dataset, and this data has none; use it "
                        "with dataset ag-news");
  }
};

LRB_REGISTER(Corruption, "shuffle", "words permuted within each sentence (the dataset's sentence splitter)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Shuffle>(Shuffle::Options::from(c)); });

}  // namespace lrb
