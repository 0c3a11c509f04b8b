// gaussian: additive Gaussian noise, clip(x + N(0, std^2), 0, 1) on [0,1] pixels.
// Source: hendrycks/robustness ImageNet-C/create_c/make_cifar_c.py::gaussian_noise (CIFAR-10-C);
// the default std 0.08 is its severity 3 (c = [0.04, 0.06, 0.08, 0.09, 0.10]).
// Deviation: the result stays float; CIFAR-10-C saves np.uint8 (truncated), up to 1/255 away.
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Gaussian : public Corruption {
 public:
  struct Options {
    double std = 0.08;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read("std", o.std, Range::at_least(0.0));
      return o;
    }
  };
  explicit Gaussian(const Options& o) : o_(o) {}

  std::string key() const override { return "gaussian"; }
  std::string metric() const override { return "Gaussian"; }
  std::string params() const override { return "std=" + param_number(o_.std); }
  std::vector<Modality> modalities() const override { return {Modality::kImage}; }

  // A standard normal draw per pixel; apply() scales it, so the draw does not depend on std.
  torch::Tensor draw(const Batch& example, const ThreatContext&, at::Generator& gen) const override {
    // host: per-example draws from a host generator (corrupt()): the same on every device; apply() moves them
    return at::randn(pixel::example_shape(example), gen, torch::TensorOptions().dtype(torch::kFloat));
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext&) const override {
    pixel::check_draws(key(), clean, draws);
    return pixel::clipped(clean, clean.x + o_.std * draws.to(clean.x.options()));
  }

 private:
  Options o_;
};

LRB_REGISTER(Corruption, "gaussian", "additive Gaussian noise clip(x + N(0, std^2)) (CIFAR-10-C gaussian_noise)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Gaussian>(Gaussian::Options::from(c)); });

}  // namespace lrb
