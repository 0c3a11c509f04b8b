// uniform: additive uniform noise, clip(x + U[-width, width), 0, 1) on [0,1] pixels, per pixel and channel.
// Source: rgeirhos/generalisation-humans-DNNs code/image_manipulation.py::uniform_noise; the default width
// 0.1 is the team's suggestion (docs/PAPER.md §5; the paper gives no level).
// Deviation: this is the plain colour variant. Geirhos first turns the image grey and lowers its contrast
// to 0.3; we do neither, so only the noise is measured (grey has its own column).
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Uniform : public Corruption {
 public:
  struct Options {
    double width = 0.1;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read("width", o.width, Range::at_least(0.0));
      return o;
    }
  };
  explicit Uniform(const Options& o) : o_(o) {}

  std::string key() const override { return "uniform"; }
  std::string metric() const override { return "Uniform"; }
  std::string params() const override { return "width=" + param_number(o_.width); }
  std::vector<Modality> modalities() const override { return {Modality::kImage}; }

  // U[-1, 1) per pixel (numpy's half-open interval); apply() scales it by width.
  torch::Tensor draw(const Batch& example, const ThreatContext&, at::Generator& gen) const override {
    // host: per-example draws from a host generator (corrupt()): the same on every device; apply() moves them
    return at::rand(pixel::example_shape(example), gen, torch::TensorOptions().dtype(torch::kFloat)) * 2.0 - 1.0;
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext&) const override {
    pixel::check_draws(key(), clean, draws);
    return pixel::clipped(clean, clean.x + o_.width * draws.to(clean.x.options()));
  }

 private:
  Options o_;
};

LRB_REGISTER(Corruption, "uniform", "additive uniform noise clip(x + U[-width, width)) (Geirhos 2018, colour variant)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Uniform>(Uniform::Options::from(c)); });

}  // namespace lrb
