#include "experiments/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "core/errors.h"
#include "core/fs.h"
#include "core/memory_meter.h"
#include "trainers/optim.h"
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lrb {

namespace {

void write_meta(torch::serialize::OutputArchive& a, const CheckpointMeta& m) {
  // Integers as int64 and text as strings only: archives never hold platform-width types.
  a.write("meta_schema", c10::IValue(m.schema));
  a.write("meta_model_key", c10::IValue(m.model_key));
  a.write("meta_model_options", c10::IValue(m.model_options));
  a.write("meta_trainer_key", c10::IValue(m.trainer_key));
  a.write("meta_dataset", c10::IValue(m.dataset_label));
  a.write("meta_spec_hash", c10::IValue(m.spec_hash));
  a.write("meta_git_commit", c10::IValue(m.git_commit));
  a.write("meta_torch_version", c10::IValue(m.torch_version));
  a.write("meta_epoch", c10::IValue(m.epoch));
  a.write("meta_seed", c10::IValue(m.seed));
  a.write("meta_test_acc", c10::IValue(m.test_acc));
}

CheckpointMeta read_meta(torch::serialize::InputArchive& a, const std::string& path) {
  CheckpointMeta m;
  c10::IValue v;
  auto str = [&](const char* key) {
    if (!a.try_read(key, v)) throw CheckpointError(path + ": not an lrbench checkpoint (no '" + key + "' entry)");
    return v.toStringRef();
  };
  auto integer = [&](const char* key) {
    if (!a.try_read(key, v)) throw CheckpointError(path + ": not an lrbench checkpoint (no '" + key + "' entry)");
    return v.toInt();
  };
  m.schema = integer("meta_schema");
  if (m.schema != kCheckpointSchema)
    throw CheckpointError(fmt::format("{}: checkpoint schema {} (this lrbench reads schema {}); retrain or use the "
                                      "lrbench version that wrote it",
                                      path, m.schema, kCheckpointSchema));
  m.model_key = str("meta_model_key");
  m.model_options = str("meta_model_options");
  m.trainer_key = str("meta_trainer_key");
  m.dataset_label = str("meta_dataset");
  m.spec_hash = str("meta_spec_hash");
  m.git_commit = str("meta_git_commit");
  m.torch_version = str("meta_torch_version");
  m.epoch = integer("meta_epoch");
  m.seed = integer("meta_seed");
  if (a.try_read("meta_test_acc", v)) m.test_acc = v.toDouble();
  return m;
}

// The sha256 that the run.json beside `path` records for it, or "" (no run.json: a checkpoint saved outside
// a run directory, or a run from before checksums).
std::string recorded_sha256(const std::string& path) {
  const auto json = std::filesystem::path(path).parent_path() / "run.json";
  if (!std::filesystem::exists(json)) return "";
  try {
    auto j = nlohmann::json::parse(read_text(json.string()));
    const auto& c = j.at("checkpoint");
    if (c.at("file").get<std::string>() != std::filesystem::path(path).filename().string()) return "";
    return c.at("sha256").get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

// A resumable state is rewritten every few steps and has no run.json entry, so it carries its own sha256: a
// trailer after the archive, "\nlrbench-sha256 <64 hex>\n", over the archive's bytes.
constexpr std::string_view kSealTag = "\nlrbench-sha256 ";
constexpr size_t kSealSize = kSealTag.size() + 64 + 1;

// Strips a trailer from `bytes` and checks it; false when there is none.
bool unseal(std::string& bytes, const std::string& path) {
  if (bytes.size() < kSealSize || bytes.compare(bytes.size() - kSealSize, kSealTag.size(), kSealTag) != 0 ||
      bytes.back() != '\n')
    return false;
  const std::string stored = bytes.substr(bytes.size() - 65, 64);
  bytes.resize(bytes.size() - kSealSize);
  const auto got = digest_hex(bytes.data(), bytes.size());
  if (got != stored)
    throw CheckpointError(fmt::format("{}: sha256 {} does not match the {} it was written with (the file was altered "
                                      "or damaged since); delete it to start the run from the beginning",
                                      path, got.substr(0, 16), stored.substr(0, 16)));
  return true;
}

// A read-only stream over bytes held elsewhere (std::istringstream would copy them), seekable as the archive
// reader needs.
struct MemoryBuf : std::streambuf {
  explicit MemoryBuf(const std::string& bytes) {
    auto* b = const_cast<char*>(bytes.data());  // never written through: the get area only
    setg(b, b, b + bytes.size());
  }
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    char* to = (dir == std::ios_base::beg ? eback() : dir == std::ios_base::cur ? gptr() : egptr()) + off;
    if (to < eback() || to > egptr()) return pos_type(off_type(-1));
    setg(eback(), to, egptr());
    return pos_type(to - eback());
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode mode) override {
    return seekoff(off_type(pos), std::ios_base::beg, mode);
  }
};

// The bytes are hashed and parsed from one read, so what is verified is what is loaded. `sealed`, when given,
// says whether the file carried its own checksum (a resumable state), which was then checked.
torch::serialize::InputArchive open_archive(const std::string& path, const std::string& expected_sha256,
                                            bool* sealed = nullptr) {
  if (!std::filesystem::exists(path))
    throw CheckpointError(path + ": checkpoint not found (train first: lrbench train EXPERIMENT.yaml --out DIR)");
  std::string bytes;
  try {
    bytes = read_text(path);
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{}: out of memory while reading the checkpoint ({:.0f} MB); free memory, or load it on "
                            "a machine with more",
                            path, static_cast<double>(std::filesystem::file_size(path)) / 1e6),
                1);
  } catch (const Error& e) {
    const auto kind = non_regular_kind(path);
    const char* fix = sealed ? "delete it to start the run from the beginning" : "retrain the run";
    if (!kind.empty()) throw CheckpointError(fmt::format("{}: is {}, not a checkpoint file; {}", path, kind, fix));
    throw CheckpointError(e.what());
  }
  if (sealed) *sealed = unseal(bytes, path);
  std::string expected = expected_sha256.empty() ? recorded_sha256(path) : expected_sha256;
  if (!expected.empty()) {
    auto got = digest_hex(bytes.data(), bytes.size());
    if (got != expected)
      throw CheckpointError(fmt::format("{}: sha256 {} does not match the {} recorded in run.json (the file was "
                                        "altered or damaged after training); retrain the run",
                                        path, got.substr(0, 16), expected.substr(0, 16)));
  }
  torch::serialize::InputArchive a;
  try {
    MemoryBuf buf(bytes);  // the archive is read in place: a copy would double the peak for a large model
    std::istream in(&buf);
    a.load_from(in);
  } catch (const c10::Error& e) {
    if (is_out_of_memory(e.what_without_backtrace()))
      throw Error(fmt::format("{}: out of memory while loading the checkpoint ({:.0f} MB); free memory, or load it "
                              "on a machine with more",
                              path, static_cast<double>(bytes.size()) / 1e6),
                  1);
    throw CheckpointError(path + ": unreadable checkpoint (truncated or not a LibTorch archive); " +
                          (sealed ? "delete it to start the run from the beginning" : "retrain it"));
  }
  return a;
}

// Every tensor a checkpoint holds for the model and optimizer, named for messages.
std::vector<std::pair<std::string, torch::Tensor>> stored_tensors(ClassifierImpl& model,
                                                                  const torch::optim::Optimizer* opt) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& kv : model.named_parameters()) out.emplace_back(kv.key(), kv.value());
  for (const auto& kv : model.named_buffers()) out.emplace_back(kv.key(), kv.value());
  if (!opt) return out;
  for (const auto& kv : opt->state()) {
    if (auto* a = dynamic_cast<const torch::optim::AdamParamState*>(kv.second.get())) {
      out.emplace_back("optimizer state exp_avg", a->exp_avg());
      out.emplace_back("optimizer state exp_avg_sq", a->exp_avg_sq());
      out.emplace_back("optimizer state max_exp_avg_sq", a->max_exp_avg_sq());
    } else if (auto* m = dynamic_cast<const torch::optim::SGDParamState*>(kv.second.get())) {
      out.emplace_back("optimizer state momentum_buffer", m->momentum_buffer());
    }
  }
  return out;
}

// The first tensor holding NaN or Inf, or "".
std::string first_nonfinite(const std::vector<std::pair<std::string, torch::Tensor>>& named) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : named)
    if (t.defined() && t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return name;
  return "";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::string save_checkpoint(const std::string& path, ClassifierImpl& model, const torch::optim::Optimizer* opt,
                            const Trainer* trainer, const CheckpointMeta& meta, const CheckpointExtras* extras) {
  auto bad = first_nonfinite(stored_tensors(model, opt));
  if (!bad.empty())
    throw DivergedError(fmt::format("{}: not written: '{}' holds NaN or Inf (the run diverged; lower "
                                    "train.optimizer.lr)",
                                    path, bad));
  torch::serialize::OutputArchive root;
  torch::serialize::OutputArchive m, o, t;
  model.save(m);
  root.write("model", m);
  if (opt) {
    save_optimizer(*opt, o);
    root.write("optimizer", o);
  }
  if (trainer) {
    trainer->save(t);
    root.write("trainer", t);
  }
  write_meta(root, meta);
  if (extras) {
    // Archive keys must be plain identifiers, so tensors are stored by index and named in the record.
    torch::serialize::OutputArchive x;
    auto names = c10::impl::GenericList(c10::StringType::get());
    for (size_t i = 0; i < extras->tensors.size(); ++i) {
      x.write("t" + std::to_string(i), extras->tensors[i].second, /*is_buffer=*/true);
      names.push_back(extras->tensors[i].first);
    }
    root.write("extras", x);
    root.write("extras_names", c10::IValue(names));
    root.write("extras_json", c10::IValue(extras->json));
  }
  // Through a stream: the archive's internal record names then never depend on the temp file's name,
  // so identical runs give byte-identical checkpoints.
  std::ostringstream bytes;
  root.save_to(bytes);
  const std::string data = bytes.str();
  // The trailer is a second write, not a concatenation: a resume state is saved every few steps, and a copy of
  // the archive would be one more model-plus-optimizer of memory each time.
  const std::string seal = extras ? std::string(kSealTag) + digest_hex(data.data(), data.size()) + "\n" : "";
  write_atomic(path, [&](std::ostream& out) {
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.write(seal.data(), static_cast<std::streamsize>(seal.size()));
  });
  return digest_hex(data.data(), data.size());
}

CheckpointMeta read_checkpoint_meta(const std::string& path, const std::string& expected_sha256) {
  auto a = open_archive(path, expected_sha256);
  return read_meta(a, path);
}

CheckpointMeta load_checkpoint(const std::string& path, ClassifierImpl& model, torch::optim::Optimizer* opt,
                               Trainer* trainer, const std::string& expected_model_key,
                               const std::string& expected_model_options, const std::string& expected_sha256,
                               CheckpointExtras* extras) {
  bool sealed = false;
  auto a = open_archive(path, expected_sha256, extras ? &sealed : nullptr);
  auto meta = read_meta(a, path);
  if (extras) {
    extras->sealed = sealed;
    const std::string fix = "; delete it to start the run from the beginning";
    c10::IValue json, names;
    torch::serialize::InputArchive x;
    if (!a.try_read("extras_json", json) || !a.try_read("extras_names", names) || !a.try_read("extras", x))
      throw CheckpointError(path + ": not a resumable state (it holds no training position)" + fix);
    try {
      extras->json = json.toStringRef();
      extras->tensors.clear();
      const auto list = names.toListRef();
      for (size_t i = 0; i < list.size(); ++i) {
        torch::Tensor t;
        x.read("t" + std::to_string(i), t, /*is_buffer=*/true);
        extras->tensors.emplace_back(list[i].toStringRef(), t);
      }
    } catch (const c10::Error& e) {
      throw CheckpointError(path + ": damaged resumable state (" + first_line(e.what_without_backtrace()) + ")" + fix);
    }
  }
  if (!expected_model_key.empty() && meta.model_key != expected_model_key)
    throw CheckpointError(fmt::format("{}: checkpoint holds model '{}' but the config asks for '{}' (use the run's "
                                      "own config.resolved.yaml, or set model={})",
                                      path, meta.model_key, expected_model_key, meta.model_key));
  if (!expected_model_options.empty() && meta.model_options != expected_model_options)
    throw CheckpointError(fmt::format("{}: checkpoint's model options differ from the config's ({} vs {})", path,
                                      meta.model_options, expected_model_options));
  try {
    // LibTorch's load silently re-shapes a tensor whose saved size differs, so shapes are checked here.
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
    for (const auto& kv : model.named_parameters()) shapes.emplace_back(kv.key(), kv.value().sizes().vec());
    for (const auto& kv : model.named_buffers()) shapes.emplace_back(kv.key(), kv.value().sizes().vec());
    torch::serialize::InputArchive m;
    a.read("model", m);
    model.load(m);
    auto now = model.named_parameters();
    auto bufs = model.named_buffers();
    for (const auto& [name, want] : shapes) {
      const torch::Tensor* t = now.find(name);
      if (!t) t = bufs.find(name);
      if (t && t->sizes().vec() != want)
        throw CheckpointError(fmt::format("{}: does not fit model '{}': '{}' has shape {} in the checkpoint but {} in "
                                          "the model (was it trained with other model options?)",
                                          path, expected_model_key, name, fmt::join(t->sizes().vec(), "x"),
                                          fmt::join(want, "x")));
    }
    if (opt) {
      torch::serialize::InputArchive o;
      if (a.try_read("optimizer", o)) load_optimizer(*opt, o);
    }
    if (trainer) {
      torch::serialize::InputArchive t;
      if (a.try_read("trainer", t)) trainer->load(t);
    }
  } catch (const c10::Error& e) {
    throw CheckpointError(fmt::format("{}: does not fit model '{}': {}", path, expected_model_key,
                                      first_line(e.what_without_backtrace())));
  }
  // Older runs (or a hand-made file) may hold a diverged model; evaluating it would report chance-level
  // accuracy as if it were a result.
  auto bad = first_nonfinite(stored_tensors(model, opt));
  if (!bad.empty())
    throw CheckpointError(fmt::format("{}: '{}' holds NaN or Inf (the run diverged); retrain it with a lower "
                                      "train.optimizer.lr",
                                      path, bad));
  return meta;
}

}  // namespace lrb
