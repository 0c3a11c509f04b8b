// grey: colour to grey, L = wr R + wg G + wb B replicated to 3 channels, so the model's input shape is
// unchanged (the paper's "Grey" distribution shift).
// Source: torchvision transforms.Grayscale(num_output_channels=3) / functional rgb_to_grayscale (ITU-R 601:
// 0.2989, 0.587, 0.114), as in the authors' loader (docs/PAPER.md §5, docs/ATTACKS.md §4).
// `weights: bt709` selects skimage rgb2gray's 0.2125, 0.7154, 0.0721 instead.
// Deviation: none for float inputs (torchvision's uint8 path rounds; ours stays float). The model keeps its
// colour normalisation: grey is an out-of-distribution test, never renormalised with grey statistics.
#include "core/errors.h"
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Grey : public Corruption {
 public:
  struct Options {
    std::string weights = "bt601";
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read_choice("weights", o.weights, {"bt601", "bt709"});
      return o;
    }
  };
  explicit Grey(const Options& o) : o_(o) {}

  std::string key() const override { return "grey"; }
  std::string metric() const override { return "Grey"; }
  std::string params() const override { return "weights=" + o_.weights; }
  std::vector<Modality> modalities() const override { return {Modality::kImage}; }

  void check(const ThreatContext& ctx) const override {
    if (ctx.input.shape.size() != 3 || ctx.input.shape[0] != 3)
      throw ConfigError(fmt::format("grey: needs RGB images (3 channels), but the dataset's examples are [{}]; a "
                                    "1-channel dataset is already grey, drop this threat for it",
                                    fmt::join(ctx.input.shape, ",")));
  }

  Batch apply(const Batch& clean, const torch::Tensor&, const ThreatContext&) const override {
    const auto& x = clean.x;
    // A 1-channel dataset (MNIST) is grey already: running this threat there is a configuration mistake.
    if (x.dim() != 4 || x.size(1) != 3)
      throw ConfigError(fmt::format("grey: needs RGB images [B,3,H,W], got inputs [{}]; a 1-channel dataset is "
                                    "already grey, drop this threat for it",
                                    fmt::join(x.sizes(), ",")));
    const bool bt709 = o_.weights == "bt709";
    const double wr = bt709 ? 0.2125 : 0.2989, wg = bt709 ? 0.7154 : 0.587, wb = bt709 ? 0.0721 : 0.114;
    auto l = wr * x.select(1, 0) + wg * x.select(1, 1) + wb * x.select(1, 2);
    return pixel::clipped(clean, l.unsqueeze(1).expand_as(x).contiguous());
  }

 private:
  Options o_;
};

LRB_REGISTER(Corruption, "grey", "colour to 3-channel grey, ITU-R 601 luma (torchvision Grayscale(3))",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Grey>(Grey::Options::from(c)); });

}  // namespace lrb
