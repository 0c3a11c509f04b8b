// word-mask: the paper's "RanMask" for text (Table 2): "randomly mask a fixed ratio of 90% of the words in the
// whole article". Each example's mask covers k = round(fraction * n) of its n word positions (n = its true
// length: title + description as the model sees them, never padding), drawn uniformly without replacement
// (RanMASK, Zeng et al. 2021, samples its mask indices without replacement), and every masked word becomes
// the model's <unk> id. Rounding: Python's round(), halves to even (n = 10 -> 9, n = 5 -> 4, n = 15 -> 14,
// n = 1 -> 1). Source: docs/ATTACKS.md §4 (RanMask, text) and pitfall 5.
// The mask (`token`; the paper names none, and the models have no [MASK] token): unk (the default) puts the model's
// <unk> id at each masked position; pad its <pad> id; delete removes the masked words, the article closing up and
// its length shrinking (an article with every word deleted keeps one <pad>: a recurrent net needs one step).
// Which one matters: <unk> is a trained embedding (it covers the words rare in training), so 90 % <unk> is an
// article of one repeated word, while <pad> and deletion leave the model the 10 % it can read.
// An article longer than the model's max_len is masked on the part the model reads.
#include <cmath>

#include "core/errors.h"
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class WordMask : public Corruption {
 public:
  struct Options {
    double fraction = 0.9;
    std::string token = "unk";
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read("fraction", o.fraction, Range{0.0, 1.0, /*lo_open=*/true});
      c.read_choice("token", o.token, {"unk", "pad", "delete"});
      return o;
    }
  };
  explicit WordMask(const Options& o) : o_(o) {}

  std::string key() const override { return "word-mask"; }
  // Each token a column of its own, so a suite can hold all three; the default keeps the paper's name.
  std::string metric() const override { return o_.token == "unk" ? "RanMask" : "RanMask (" + o_.token + ")"; }
  std::string params() const override { return "fraction=" + param_number(o_.fraction) + ";token=" + o_.token; }
  std::vector<Modality> modalities() const override { return {Modality::kText}; }

  // How many of n words are masked.
  int64_t count(int64_t n) const { return static_cast<int64_t>(std::nearbyint(o_.fraction * static_cast<double>(n))); }

  // bool [T]: true at the masked positions.
  torch::Tensor draw(const Batch& example, const ThreatContext&, at::Generator& gen) const override {
    TORCH_CHECK(example.x.dim() == 2 && example.x.size(0) == 1 && example.lengths.defined(),
                "word-mask: needs a 1-example text batch (ids [1,T] + lengths)");
    const int64_t T = example.x.size(1), n = std::min(example.lengths[0].item<int64_t>(), T);
    // host: per-example draws from a host generator (corrupt()); apply() moves them
    auto mask = torch::zeros({T}, torch::kBool);
    auto chosen = at::randperm(n, gen, torch::kLong).slice(0, 0, count(n));
    mask.index_fill_(0, chosen, true);
    return mask;
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext& ctx) const override {
    TORCH_CHECK(clean.x.dim() == 2 && clean.lengths.defined(), "word-mask: needs text (ids [B,T] + lengths)");
    pixel::check_draws(key(), clean, draws);
    check(ctx);
    auto mask = draws.to(clean.x.device(), torch::kBool);
    auto beyond = torch::arange(clean.x.size(1), clean.lengths.options()).unsqueeze(0) >= clean.lengths.unsqueeze(1);
    if (mask.logical_and(beyond).any().item<bool>())
      throw std::invalid_argument("word-mask: a draw masks padding (a position beyond the example's length)");
    Batch out = clean;
    if (o_.token != "delete") {
      out.x = clean.x.masked_fill(mask, o_.token == "unk" ? ctx.vocab->unk : ctx.vocab->pad);
      return out;
    }
    // Kept words first, in order (a stable sort of the masked flag), then <pad> from the new length on.
    auto order = std::get<1>(mask.to(torch::kInt).sort(c10::optional<bool>(true), /*dim=*/1, /*descending=*/false));
    auto kept = (~mask).logical_and(~beyond).sum(1);
    out.lengths = kept.clamp_min(1).to(clean.lengths.scalar_type());
    auto after = torch::arange(clean.x.size(1), clean.lengths.options()).unsqueeze(0) >= kept.unsqueeze(1);
    out.x = clean.x.gather(1, order).masked_fill(after, ctx.vocab->pad);
    return out;
  }

  void check(const ThreatContext& ctx) const override {
    if (!ctx.vocab)
      throw ConfigError("word-mask needs the model's <unk> id from a text dataset's vocabulary, and this data has "
                        "none; use it with dataset ag-news");
  }

 private:
  Options o_;
};

LRB_REGISTER(Corruption, "word-mask", "RanMask for text: 90% of the words, without replacement, set to <unk> or <pad>, or deleted (fraction, token)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<WordMask>(WordMask::Options::from(c)); });

}  // namespace lrb
