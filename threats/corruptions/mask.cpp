// mask: one random axis-aligned square covering `fraction` of the image area, filled with the dataset's
// mean colour (the paper's "RanMask" distribution shift for images).
// Source: the authors' loader (docs/PAPER.md §5) applies torchvision RandomErasing(p=1, scale=(0.1, 0.1),
// ratio=(1, 1), value=0) after Normalize, i.e. side h = round(sqrt(f*H*W)), top-left i ~ U{0..H-h},
// j ~ U{0..W-h}, filled with 0 in normalised space = the per-channel mean in pixel space.
// Deviations: a square that would not fit strictly inside the image (h >= H or W) or that covers no
// pixel (h = 0) is an error here, where torchvision silently leaves the image unchanged. `fill: zero`
// (black) is offered as an alternative. A model without normalisation (empty mean) gets 0 for "mean",
// which is still "0 in the model's input space".
#include <cmath>

#include "core/errors.h"
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Mask : public Corruption {
 public:
  struct Options {
    double fraction = 0.1;
    std::string fill = "mean";
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read("fraction", o.fraction, Range{0.0, 1.0, /*lo_open=*/true});
      c.read_choice("fill", o.fill, {"mean", "zero"});
      return o;
    }
  };
  explicit Mask(const Options& o) : o_(o) {}

  std::string key() const override { return "mask"; }
  std::string metric() const override { return "RanMask"; }
  std::string params() const override { return "fraction=" + param_number(o_.fraction) + ";fill=" + o_.fill; }
  std::vector<Modality> modalities() const override { return {Modality::kImage}; }

  // The square's top-left corner (i, j), int64 [2].
  torch::Tensor draw(const Batch& example, const ThreatContext&, at::Generator& gen) const override {
    auto s = pixel::example_shape(example);
    TORCH_CHECK(s.size() == 3, "mask: needs images [C,H,W] per example");
    const int64_t h = side(s[1], s[2]);
    // host: per-example draws from a host generator (corrupt()): the same on every device
    auto i = at::randint(0, s[1] - h + 1, {1}, gen, torch::kLong);
    auto j = at::randint(0, s[2] - h + 1, {1}, gen, torch::kLong);
    return torch::cat({i, j});
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext& ctx) const override {
    TORCH_CHECK(clean.x.dim() == 4, "mask: needs images [B,C,H,W]");
    const int64_t C = clean.x.size(1), H = clean.x.size(2), W = clean.x.size(3), h = side(H, W);
    pixel::check_draws(key(), clean, draws, {clean.x.size(0), 2});
    torch::Tensor colour = torch::zeros({C, 1, 1}, clean.x.options());
    if (o_.fill == "mean" && !ctx.input.mean.empty()) {
      TORCH_CHECK(static_cast<int64_t>(ctx.input.mean.size()) == C, "mask: the context has ", ctx.input.mean.size(),
                  " channel means for ", C, "-channel images");
      colour = torch::tensor(ctx.input.mean, torch::kDouble).view({C, 1, 1}).to(clean.x.options());
    }
    auto x = clean.x.clone();
    auto corners = draws.to(torch::kCPU, torch::kLong).contiguous();
    const auto* ij = corners.data_ptr<int64_t>();
    for (int64_t b = 0; b < x.size(0); ++b) {
      const int64_t i = ij[2 * b], j = ij[2 * b + 1];
      TORCH_CHECK(i >= 0 && j >= 0 && i + h <= H && j + h <= W, "mask: corner (", i, ",", j, ") puts the square outside");
      x[b].slice(1, i, i + h).slice(2, j, j + h).copy_(colour.expand({C, h, h}));
    }
    return pixel::clipped(clean, x);
  }

  void check(const ThreatContext& ctx) const override {
    const auto& shape = ctx.input.shape;
    if (shape.size() == 3) side(shape[1], shape[2]);
  }

 private:
  int64_t side(int64_t H, int64_t W) const {
    // nearbyint rounds half to even, like Python's round() in RandomErasing.get_params.
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(o_.fraction * static_cast<double>(H * W))));
    if (h < 1 || h >= H || h >= W)
      throw ConfigError(fmt::format("mask: fraction {} gives a {}x{} square on {}x{} images; it must cover "
                                              "at least one pixel and fit strictly inside (torchvision would skip it)",
                                              o_.fraction, h, h, H, W));
    return h;
  }
  Options o_;
};

LRB_REGISTER(Corruption, "mask", "one random square of `fraction` of the area set to the mean colour (RandomErasing)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Mask>(Mask::Options::from(c)); });

}  // namespace lrb
