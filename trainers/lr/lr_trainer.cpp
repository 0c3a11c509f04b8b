#include "trainers/lr/lr_trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.h"
#include "core/registry.h"
#include "trainers/lr/engine_detail.h"

namespace lrb::lr {

namespace {
constexpr double kLogitSigma = 1e-1, kWeightSigma = 1e-3;  // docs/PAPER.md §3: initial σ per noise mode

Mode parse_mode(const std::string& s) { return s == "weight" ? Mode::kWeight : s == "logit" ? Mode::kLogit : Mode::kNone; }

std::string layer_names(const std::vector<PerturbableLayer>& layers) {
  std::vector<std::string> names;
  for (const auto& l : layers) names.push_back(l.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// A per-layer list as written: one entry broadcasts, otherwise one entry per layer.
template <class T>
std::vector<T> per_layer(const std::vector<T>& given, std::vector<T> preset, const std::string& key,
                         const LrOptions& o, const std::string& model_key, const std::vector<PerturbableLayer>& layers) {
  if (given.empty()) return preset;
  if (given.size() == 1) return std::vector<T>(layers.size(), given[0]);
  if (given.size() != layers.size()) {
    auto it = o.where_of.find(key);
    throw ConfigError(it == o.where_of.end() ? "<config>" : it->second,
                      fmt::format("trainer.{} has {} entries, but model '{}' has {} perturbable layers ({}); give "
                                  "one value or one per layer",
                                  key, given.size(), model_key, layers.size(), layer_names(layers)));
  }
  return given;
}
}  // namespace

LrOptions LrOptions::noise_from(const Config& c, const std::string& flavor) {
  LrOptions o;
  o.flavor = flavor;
  c.has("name");
  if (c.read("modes", o.modes))
    for (const auto& m : o.modes)
      if (m != "none" && m != "logit" && m != "weight" && m != "auto")
        throw ConfigError(c.where("modes"),
                          fmt::format("{}: invalid value (got '{}', expected one of: none, logit, weight, auto){}",
                                      c.path("modes"), m, did_you_mean(m, {"none", "logit", "weight", "auto"})));
  c.read("sigma", o.sigma, Range::positive());
  for (const char* k : {"modes", "sigma"}) o.where_of[k] = c.where(k);
  c.read("learn_sigma", o.learn_sigma);
  return o;
}

LrOptions LrOptions::from(const Config& c, const std::string& flavor) {
  LrOptions o = noise_from(c, flavor);
  c.read("copies", o.copies, Range::between(1, 1 << 20));  // the paper uses hundreds; 1e9 would be a hang
  o.where_of["copies"] = c.where("copies");
  c.read_choice("weight_noise", o.weight_noise, {"auto", "row", "copy"});
  c.read("antithetic", o.antithetic);
  c.read_choice("baseline", o.baseline, {"none", "clean-loss", "batch-mean"});
  c.read_choice("noise", o.noise, {"mc", "sobol"});
  c.read("layerwise", o.layerwise);
  c.read("chunk_rows", o.chunk_rows, Range::at_least(0));
  c.read("copies_divisor", o.copies_divisor, Range::at_least(1));
  return o;
}

LrPreset rule_preset(const std::string& flavor, const std::vector<PerturbableLayer>& layers,
                     const std::vector<int64_t>& preactivation_sizes) {
  LrPreset p;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto params = layers[l].weight().numel() + (layers[l].bias().defined() ? layers[l].bias().numel() : 0);
    bool weight = flavor == "lr-wl" && !layers[l].is_embedding() && l < preactivation_sizes.size() &&
                  params < preactivation_sizes[l];
    p.modes.push_back(weight ? "weight" : "logit");
    p.sigma.push_back(weight ? kWeightSigma : kLogitSigma);
    p.copies.push_back(100);
  }
  return p;
}

LrPreset preset_for(const std::string& flavor, LayeredModel& model) {
  auto layers = model.layers();
  if (auto p = model.lr_preset(flavor)) {
    TORCH_CHECK(p->modes.size() == layers.size() && p->copies.size() == layers.size() &&
                    p->sigma.size() == layers.size(),
                "the model's ", flavor, " preset must give one mode, copy count and sigma per layer");
    return *p;
  }
  return rule_preset(flavor, layers, model.preactivation_sizes());
}

EngineSettings resolve(const LrOptions& o, const std::string& model_key, LayeredModel& model,
                       std::vector<Trainer::Resolved>* resolved) {
  auto layers = model.layers();
  if (layers.empty()) throw ConfigError(fmt::format("model '{}' has no perturbable layers", model_key));
  auto p = preset_for(o.flavor, model);
  std::string preset_source = "the weight-vs-logit rule (trainers/lr/lr_trainer.cpp)";
  if (model.lr_preset(o.flavor)) {
    const auto& models = Registry<ClassifierImpl>::get();
    const std::string origin = models.contains(model_key) ? models.at(model_key, "").origin : "";
    preset_source = fmt::format("the {} preset of model '{}' ({})", o.flavor, model_key,
                                origin.empty() ? std::string("built in") : "plugin " + origin);
  }
  auto rule = rule_preset("lr-wl", layers, model.preactivation_sizes());
  auto modes = per_layer(o.modes, p.modes, "modes", o, model_key, layers);
  for (size_t l = 0; l < modes.size(); ++l)
    if (modes[l] == "auto") {
      if (model.preactivation_sizes().size() != layers.size())
        throw ConfigError(o.where_of.count("modes") ? o.where_of.at("modes") : "<config>", fmt::format("trainer.modes: 'auto' needs the per-layer output sizes, "
                                                              "which model '{}' does not report; give the modes",
                                                              model_key));
      modes[l] = rule.modes[l];
    }
  auto copies = per_layer(o.copies, p.copies, "copies", o, model_key, layers);
  const auto copies_given = copies;  // recorded before the divisor, which stays a key of its own
  // The divisor applies to the copies in force, preset or given (rounded up to even: antithetic pairs).
  if (o.copies_divisor > 1)
    for (auto& c : copies) c = std::max<int64_t>(2, ((c + o.copies_divisor - 1) / o.copies_divisor + 1) / 2 * 2);
  // σ0 follows each layer's final mode unless given: the model's preset value for that mode (from either
  // flavor's preset), else the rule's constant.
  auto other = preset_for(o.flavor == "lr-wl" ? "lr-l" : "lr-wl", model);
  std::vector<double> sigma_default;
  for (size_t l = 0; l < modes.size(); ++l)
    sigma_default.push_back(modes[l] == p.modes[l]       ? p.sigma[l]
                            : modes[l] == other.modes[l] ? other.sigma[l]
                            : modes[l] == "weight"       ? kWeightSigma
                                                         : kLogitSigma);
  auto sigma = per_layer(o.sigma, sigma_default, "sigma", o, model_key, layers);
  if (resolved) {
    const bool had_auto = std::find(o.modes.begin(), o.modes.end(), "auto") != o.modes.end();
    auto source = [&](bool given, const char* given_as) { return given ? std::string(given_as) : preset_source; };
    std::vector<std::string> m(modes.begin(), modes.end()), c, s;
    for (auto v : copies_given) c.push_back(std::to_string(v));
    for (auto v : sigma) s.push_back(fmt::format("{}", v));
    *resolved = {{"modes", m, source(!o.modes.empty(), had_auto ? "config (auto: the weight-vs-logit rule)" : "config")},
                 {"copies", c,
                  source(!o.copies.empty(), "config") +
                      (o.copies_divisor > 1 ? fmt::format("; copies_divisor {} makes {} in use", o.copies_divisor,
                                                          fmt::format("[{}]", fmt::join(copies, ", ")))
                                            : "")},
                 {"sigma", s, source(!o.sigma.empty(), "config")}};
  }
  for (size_t l = 0; l < layers.size(); ++l)
    if (modes[l] == "weight" && layers[l].is_embedding())
      throw ConfigError(o.where_of.count("modes") ? o.where_of.at("modes") : "<config>",
                        fmt::format("trainer.modes: layer '{}' of model '{}' is an embedding (a lookup), which takes "
                                    "only logit noise; give 'logit' or 'none' for it",
                                    layers[l].name, model_key));

  EngineSettings s;
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerSetting ls;
    ls.mode = parse_mode(modes[l]);
    ls.copies = copies[l];
    ls.sigma0 = sigma[l];
    ls.weight_per_row = o.weight_noise == "row" || (o.weight_noise == "auto" && layers[l].is_conv());
    s.layers.push_back(ls);
  }
  s.antithetic = o.antithetic;
  s.baseline = o.baseline == "none" ? Baseline::kNone
               : o.baseline == "batch-mean" ? Baseline::kBatchMean
                                            : Baseline::kCleanLoss;
  s.source = o.noise == "sobol" ? Source::kSobol : Source::kMC;
  s.layerwise = o.layerwise;
  s.sigma_grad = o.learn_sigma;
  s.chunk_rows = o.chunk_rows;
  return s;
}

LayeredModel& layered(ClassifierImpl& model, const std::string& trainer) {
  auto* lm = dynamic_cast<LayeredModel*>(&model);
  if (!lm)
    throw ConfigError(fmt::format("trainer '{}' needs a model made of perturbable layers; model '{}' is not one "
                                  "(use trainer=bp or trainer=es)",
                                  trainer, model.key()));
  return *lm;
}

void set_grad(torch::Tensor& p, const torch::Tensor& g) {
  auto& slot = p.mutable_grad();
  if (!g.defined()) {
    slot = torch::Tensor();
  } else if (slot.defined() && slot.sizes() == g.sizes()) {
    slot.copy_(g);
  } else {
    slot = g.detach().to(p.options()).clone();
  }
}

void LrTrainer::attach(ClassifierImpl& model) {
  auto layers = layered(model, o_.flavor).layers();
  std::set<const void*> covered;
  for (const auto& l : layers) {
    covered.insert(l.weight().unsafeGetTensorImpl());
    if (l.bias().defined()) covered.insert(l.bias().unsafeGetTensorImpl());
  }
  for (const auto& p : model.named_parameters())
    if (p.value().requires_grad() && !covered.count(p.value().unsafeGetTensorImpl()))
      throw ConfigError(fmt::format("trainer '{}': parameter '{}' of model '{}' is outside its perturbable layers, "
                                    "so LR cannot train it",
                                    o_.flavor, p.key(), model.key()));
  settings_ = resolve(o_, model.key(), layered(model, o_.flavor), &resolved_);
  log_sigma_.clear();
  for (size_t l = 0; l < layers.size(); ++l) {
    auto w = layers[l].weight();
    auto t = torch::full({layers[l].out_channels()}, std::log(settings_.layers[l].sigma0),
                         w.options().requires_grad(false));
    if (o_.learn_sigma) t.set_requires_grad(true);
    log_sigma_.push_back(t);
  }
  attached_ = true;
}

std::vector<torch::Tensor> LrTrainer::parameters() {
  std::vector<torch::Tensor> out;
  if (o_.learn_sigma)
    for (size_t l = 0; l < log_sigma_.size(); ++l)
      if (settings_.layers[l].mode != Mode::kNone) out.push_back(log_sigma_[l]);
  return out;
}

std::vector<torch::Tensor> LrTrainer::sigmas() const {
  std::vector<torch::Tensor> out;
  for (const auto& t : log_sigma_) out.push_back(t.detach().exp());
  return out;
}

StepStats LrTrainer::estimate_grad(ClassifierImpl& model, const Batch& batch, at::Generator& gen) {
  if (!attached_) attach(model);
  torch::NoGradGuard no_grad;
  auto& lm = layered(model, o_.flavor);
  auto layers = lm.layers();
  Engine engine(lm, settings_, sigmas());
  auto& team = collective();
  engine.shard(team.rank(), team.world());
  const uint64_t key = draw_key(gen);  // every layer's noise is addressed from this key (engine.h)
  auto clean = engine.clean_pass(batch);
  std::vector<LayerGrad> grads(layers.size());
  if (settings_.layerwise) {
    for (size_t l = 0; l < layers.size(); ++l)
      if (settings_.layers[l].mode != Mode::kNone)
        grads[l] = engine.layer(clean, static_cast<int>(l), {settings_.layers[l].copies}, key).front();
  } else {
    int64_t copies = 0;  // one set of copies for all layers: the largest per-layer count
    for (const auto& s : settings_.layers)
      if (s.mode != Mode::kNone) copies = std::max(copies, s.copies);
    if (copies > 0) grads = engine.joint(clean, {copies}, key).front();
  }
  int64_t rows = engine.rows();
  if (team.world() > 1) {  // each rank holds its copies' share of every estimate: one all-reduce of them all
    std::vector<torch::Tensor> parts;
    for (auto& g : grads)
      for (auto* t : {&g.weight, &g.bias, &g.log_sigma})
        if (t->defined()) parts.push_back(*t);
    // host: Gloo all-reduces host tensors (trainers/distributed.cpp)
    auto count = torch::full({1}, static_cast<double>(rows), torch::TensorOptions().dtype(torch::kDouble));
    parts.push_back(count);
    team.all_reduce_sum(parts);
    rows = static_cast<int64_t>(count.item<double>());
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    auto w = layers[l].weight(), b = layers[l].bias();
    set_grad(w, grads[l].weight);  // a layer without noise is frozen: no gradient
    if (b.defined()) set_grad(b, grads[l].bias);
    if (o_.learn_sigma) set_grad(log_sigma_[l], grads[l].log_sigma);
  }
  StepStats st;
  st.loss = clean.mean_loss();
  st.correct = batch.select(clean.trace.logits).argmax(1).eq(batch.targets()).sum().item<int64_t>();
  st.count = batch.size();
  st.forward_rows = clean.batch() + rows;
  return st;
}

Trainer::NoiseHook LrTrainer::inference_noise(ClassifierImpl& model, at::Generator& gen) const {
  if (!attached_) throw std::logic_error("LrTrainer::inference_noise before attach()");
  return noise_hook(model, gen, sigmas());
}

Trainer::NoiseHook LrTrainer::training_noise(ClassifierImpl& model, at::Generator& gen) const {
  if (!attached_) throw std::logic_error("LrTrainer::training_noise before attach()");
  std::vector<torch::Tensor> sigma;
  for (const auto& t : log_sigma_) sigma.push_back(o_.learn_sigma ? t.exp() : t.detach().exp());
  return noise_hook(model, gen, sigma);
}

Trainer::NoiseHook LrTrainer::noise_hook(ClassifierImpl& model, at::Generator& gen,
                                         std::vector<torch::Tensor> sigma) const {
  auto layers = layered(model, o_.flavor).layers();
  auto settings = settings_;
  at::Generator* g = &gen;
  return [layers, sigma, settings, g](int l, const torch::Tensor& x, const torch::Tensor&) -> torch::Tensor {
    auto site = layers.at(l);  // module handles (shared): a copy calls the same modules
    const Mode mode = settings.layers.at(l).mode;
    // σ per output channel, shaped to broadcast over a [R, C, ...] output or a [C, ...] kernel.
    auto per_channel = [&](int64_t dims, int64_t channel_dim) {
      std::vector<int64_t> s(dims, 1);
      s[channel_dim] = -1;
      return sigma.at(l).view(s).to(site.weight().device());
    };
    if (mode == Mode::kWeight && !site.is_embedding()) {
      auto w = site.weight(), b = site.bias();
      auto noisy_w = w + per_channel(w.dim(), 0) * at::randn(w.sizes(), *g, w.options());
      auto noisy_b = b.defined() ? b + per_channel(1, 0) * at::randn(b.sizes(), *g, b.options()) : b;
      if (!site.is_conv()) return torch::nn::functional::linear(x, noisy_w, noisy_b);
      const auto& o = site.conv->options;
      const auto* pad = detail::explicit_padding(o);
      if (!pad || !detail::pads_with_zeros(o))
        throw ConfigError("eval.noise: site '" + site.name + "' is a convolution with symbolic or non-zero padding, "
                          "which weight noise at inference does not support; use eval.noise: off");
      return at::conv2d(x, noisy_w, noisy_b, o.stride(), *pad, o.dilation(), o.groups());
    }
    auto z = site.is_conv() ? site.conv->forward(x) : site.is_embedding() ? site.embedding->forward(x)
                                                                           : site.linear->forward(x);
    if (mode == Mode::kNone) return z;
    return z + per_channel(z.dim(), 1) * at::randn(z.sizes(), *g, z.options());
  };
}

void LrTrainer::save(torch::serialize::OutputArchive& archive) const {
  for (size_t l = 0; l < log_sigma_.size(); ++l) archive.write(fmt::format("lr_log_sigma_{}", l), log_sigma_[l]);
}

void LrTrainer::load(torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < log_sigma_.size(); ++l) {
    torch::Tensor t;
    if (!archive.try_read(fmt::format("lr_log_sigma_{}", l), t)) continue;  // checkpoints from fixed-σ runs
    TORCH_CHECK(t.sizes() == log_sigma_[l].sizes(), "checkpoint log sigma of layer ", l, " has shape ", t.sizes(),
                ", expected ", log_sigma_[l].sizes());
    log_sigma_[l].copy_(t);
  }
}

LRB_REGISTER(Trainer, "lr-l", "likelihood-ratio: logit (pre-activation) noise on every layer",
             [](const Config& c) -> Trainer::Ptr { return std::make_unique<LrTrainer>(LrOptions::from(c, "lr-l")); });
LRB_REGISTER(Trainer, "lr-wl", "likelihood-ratio: weight noise on early layers, logit noise on the rest",
             [](const Config& c) -> Trainer::Ptr { return std::make_unique<LrTrainer>(LrOptions::from(c, "lr-wl")); });

}  // namespace lrb::lr
