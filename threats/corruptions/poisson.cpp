// poisson: shot noise, clip(Poisson(x * rate) / rate, 0, 1) on [0,1] pixels (one count per pixel and channel).
// Source: hendrycks/robustness ImageNet-C/create_c/make_cifar_c.py::shot_noise (CIFAR-10-C); the default
// rate 100 is its severity 3 (c = [500, 250, 100, 75, 50]).
// Deviations: x is clipped to [0,1] before sampling (torch::poisson needs lambda >= 0); the result stays
// float, where CIFAR-10-C saves np.uint8 (truncated).
#include "core/registry.h"
#include "threats/corruptions/pixel.h"
#include "threats/threat.h"

namespace lrb {

class Poisson : public Corruption {
 public:
  struct Options {
    double rate = 100.0;
    static Options from(const Config& c) {
      Options o;
      c.has("name");
      c.read("rate", o.rate, Range::positive());
      return o;
    }
  };
  explicit Poisson(const Options& o) : o_(o) {}

  std::string key() const override { return "poisson"; }
  std::string metric() const override { return "Poisson"; }
  std::string params() const override { return "rate=" + param_number(o_.rate); }
  std::vector<Modality> modalities() const override { return {Modality::kImage}; }

  // The photon counts themselves: unlike the additive noises they depend on the pixel values.
  torch::Tensor draw(const Batch& example, const ThreatContext&, at::Generator& gen) const override {
    auto lambda = torch::clamp(example.x[0].to(torch::kFloat), 0.0, 1.0) * o_.rate;
    return at::poisson(lambda, gen);
  }

  Batch apply(const Batch& clean, const torch::Tensor& draws, const ThreatContext&) const override {
    pixel::check_draws(key(), clean, draws);
    return pixel::clipped(clean, draws.to(clean.x.options()) / o_.rate);
  }

 private:
  Options o_;
};

LRB_REGISTER(Corruption, "poisson", "shot noise clip(Poisson(x * rate) / rate) (CIFAR-10-C shot_noise)",
             [](const Config& c) -> Corruption::Ptr { return std::make_unique<Poisson>(Poisson::Options::from(c)); });

}  // namespace lrb
