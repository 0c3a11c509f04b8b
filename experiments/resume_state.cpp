#include "experiments/resume_state.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace lrb {

namespace {

constexpr int kResumeSchema = 2;
constexpr int kUnsealedSchema = 1;  // read for runs started by an older lrbench
constexpr const char* kBest = "best/";

// nlohmann writes doubles in their shortest round-trip form, so running sums come back bit for bit.
nlohmann::json record_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},       {"loss", r.loss},       {"train_acc", r.train_acc},
          {"test_acc", r.test_acc}, {"seconds", r.seconds}, {"val_acc", r.val_acc}};
}
EpochRecord record_of(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int>();
  r.loss = j.at("loss").get<double>();
  r.train_acc = j.at("train_acc").get<double>();
  r.test_acc = j.at("test_acc").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.val_acc = j.at("val_acc").get<double>();
  return r;
}

}  // namespace

CheckpointExtras encode_resume_state(const ResumeState& s) {
  const auto& p = s.position;
  nlohmann::json j = {{"schema", kResumeSchema},
                      {"position",
                       {{"epoch", p.epoch},
                        {"step", p.step},
                        {"loss_sum", p.loss_sum},
                        {"seconds", p.seconds},
                        {"correct", p.correct},
                        {"count", p.count}}},
                      {"saved_epoch", s.saved_epoch},
                      {"device", s.device},
                      {"wall_seconds", s.wall_seconds},
                      {"chosen", record_json(s.chosen)},
                      {"epochs", nlohmann::json::array()}};
  for (const auto& r : s.epochs) j["epochs"].push_back(record_json(r));
  CheckpointExtras x;
  x.json = j.dump();
  auto add = [&](const char* name, const torch::Tensor& t) {
    if (t.defined()) x.tensors.emplace_back(name, t);
  };
  add("augment", p.augment_state);
  add("noise", p.noise_state);
  add("global_cpu", p.global_cpu_state);
  add("global_device", p.global_device_state);
  for (const auto& [name, t] : s.best) x.tensors.emplace_back(kBest + name, t);
  return x;
}

ResumeState decode_resume_state(const CheckpointExtras& x, const std::string& path) {
  ResumeState s;
  try {
    auto j = nlohmann::json::parse(x.json);
    const int schema = j.at("schema").get<int>();
    // Schema 1 states predate the checksum trailer; from schema 2 on, a state without one was damaged.
    if (schema == kResumeSchema && !x.sealed)
      throw CheckpointError(path + ": damaged resume state (its checksum trailer is gone); delete it to start the run "
                                   "from the beginning");
    if (schema != kResumeSchema && schema != kUnsealedSchema)
      throw CheckpointError(fmt::format("{}: resume state schema {} (this lrbench reads {}); delete it to start the "
                                        "run from the beginning",
                                        path, schema, kResumeSchema));
    const auto& p = j.at("position");
    s.position.epoch = p.at("epoch").get<int64_t>();
    s.position.step = p.at("step").get<int64_t>();
    s.position.loss_sum = p.at("loss_sum").get<double>();
    s.position.seconds = p.at("seconds").get<double>();
    s.position.correct = p.at("correct").get<int64_t>();
    s.position.count = p.at("count").get<int64_t>();
    s.saved_epoch = j.at("saved_epoch").get<int64_t>();
    s.device = j.at("device").get<std::string>();
    s.wall_seconds = j.value("wall_seconds", 0.0);
    s.chosen = record_of(j.at("chosen"));
    for (const auto& r : j.at("epochs")) s.epochs.push_back(record_of(r));
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format("{}: damaged resume record ({}); delete it to start the run from the beginning",
                                      path, e.what()));
  }
  std::map<std::string, torch::Tensor*> slots = {{"augment", &s.position.augment_state},
                                                 {"noise", &s.position.noise_state},
                                                 {"global_cpu", &s.position.global_cpu_state},
                                                 {"global_device", &s.position.global_device_state}};
  for (const auto& [name, t] : x.tensors) {
    if (name.rfind(kBest, 0) == 0)
      s.best.emplace_back(name.substr(std::string(kBest).size()), t);
    else if (auto it = slots.find(name); it != slots.end())
      *it->second = t;
  }
  if (s.position.step > 0 && (!s.position.augment_state.defined() || !s.position.noise_state.defined()))
    throw CheckpointError(path + ": damaged resume record (a position within an epoch without its generator "
                                 "states); delete it to start the run from the beginning");
  return s;
}

}  // namespace lrb
