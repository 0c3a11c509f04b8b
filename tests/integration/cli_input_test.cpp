// Issue 7 through the lrbench binary: non-finite training, config edge cases, checkpoint integrity,
// run-directory lifecycle and `check` parity. Bad input: one error line, the promised exit code, and
// nothing half-written or wrongly reported.
#include <torch/torch.h>

#include <fstream>
#include <regex>

#include "core/fs.h"
#include "tests/support/cli.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {

using Result = test::CliResult;
using test::lrbench;

std::string demo() { return test::source_dir() + "/experiments/demo.yaml"; }
const std::string kSmall = " dataset.limit_train=200 dataset.limit_test=200 model.hidden=[16] ";

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string spec_of(const Result& r) {
  std::smatch m;
  static const std::regex re("# ok: spec_hash ([0-9a-f]+)");
  return std::regex_search(r.out, m, re) ? std::string(m[1]) : "<none>";
}

// fc0.bias of the MLP as stored in a checkpoint (module archives nest: model / fc0 / bias).
torch::Tensor stored_bias(const std::string& path) {
  torch::serialize::InputArchive a, m, fc0;
  a.load_from(path);
  a.read("model", m);
  m.read("fc0", fc0);
  torch::Tensor bias;
  fc0.read("bias", bias);
  return bias;
}

// One error line holding every needle, and the exit code.
void expect_one_error(const Result& r, int code, const std::vector<std::string>& needles) {
  EXPECT_EQ(r.code, code) << r.out;
  ASSERT_EQ(r.error_lines.size(), 1u) << r.out;
  for (const auto& n : needles) EXPECT_TRUE(has(r.error_lines[0], n)) << n << "\n" << r.out;
}

}  // namespace

// ---- 1. non-finite numbers in training ------------------------------------------------------------

TEST(CliNonFinite, SigmaThatUnderflowsFloat32IsAConfigErrorForEsAndLr) {
  test::TempDir d;
  for (std::string trainer : {"trainer=es trainer.sigma=1e-50 trainer.population=10",
                              "trainer=lr-l trainer.sigma=1e-50 trainer.copies=4"}) {
    auto r = lrbench("train " + demo() + kSmall + "train.epochs=1 " + trainer + " train.max_steps=1 --out " +
                     (d / "run"));
    expect_one_error(r, 2, {"trainer.sigma", "underflows float32"});
    EXPECT_FALSE(std::filesystem::exists(d / "run")) << trainer;
    auto c = lrbench("check " + demo() + " " + trainer);
    expect_one_error(c, 2, {"trainer.sigma", "underflows float32"});
  }
  auto nan = lrbench("check " + demo() + " train.optimizer.lr=nan");
  expect_one_error(nan, 2, {"train.optimizer.lr: not a finite number"});
}

TEST(CliNonFinite, RepresentableSigmaThatBlowsUpIsStoppedAfterTheStep) {
  test::TempDir d;
  // σ = 1e-30 is a valid float32, but θ ± σξ == θ in float32 and the ES estimate is ~1/σ: Adam's squared
  // average overflows while the parameters stay finite, so only the post-step check can see it.
  // LR-L's estimate itself overflows, so the gradient check sees it.
  for (const auto& [name, trainer] : std::vector<std::pair<std::string, std::string>>{
           {"es", "trainer=es trainer.sigma=1e-30 trainer.population=10"},
           {"lr-l", "trainer=lr-l trainer.sigma=1e-30 trainer.copies=4"}}) {
    auto r = lrbench("train " + demo() + kSmall + "train.epochs=2 " + trainer + " train.max_steps=1 --out " +
                     (d / name));
    expect_one_error(r, 1, {"epoch 1 step 1:", "not finite", "no checkpoint was written"});
    EXPECT_FALSE(has(r.out, "checkpoint is kept")) << r.out;
    EXPECT_FALSE(std::filesystem::exists(d / (name + "/checkpoint.pt"))) << name;
  }
}

TEST(CliNonFinite, OverflowInTheFirstEpochStopsWithoutACheckpointOrAClaimOfOneAndRunJsonSaysWhy) {
  test::TempDir d;
  // SGD with a huge rate and weight decay: the gradient is finite, the updated parameters are not.
  auto r = lrbench("train " + demo() + kSmall +
                   "train.epochs=1 train.optimizer.name=sgd train.optimizer.lr=1e30 "
                   "train.optimizer.weight_decay=1e30 --out " + (d / "run"));
  expect_one_error(r, 1, {"epoch 1 step 1: parameter 'fc", "not finite after the optimizer step",
                   "no checkpoint was written"});
  EXPECT_FALSE(has(r.out, "checkpoint is kept")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(d / "run/checkpoint.pt"));
  // run.json says the run failed and why, and records no checkpoint.
  std::ifstream f(d / "run/run.json");
  const std::string json((std::istreambuf_iterator<char>(f)), {});
  EXPECT_TRUE(has(json, "\"status\": \"failed\"")) << json;
  EXPECT_TRUE(has(json, "\"failure\": \"diverged\"")) << json;
  EXPECT_FALSE(has(json, "sha256")) << json;
  auto e = lrbench("eval " + (d / "run"));
  expect_one_error(e, 1, {"run.json: the run failed before its first checkpoint", "not finite after the optimizer step"});
}

TEST(CliNonFinite, DivergenceInALaterEpochKeepsTheLastGoodCheckpointWhichEvaluates) {
  test::TempDir d;
  // Epoch 2 trains at lr 0.01 * 1e32: the run stops there; epoch 1's checkpoint is the good one.
  auto r = lrbench("train " + demo() + kSmall +
                   "train.epochs=2 train.optimizer.name=sgd train.optimizer.lr=0.01 train.scheduler.name=step "
                   "train.scheduler.step_size=1 train.scheduler.gamma=1e32 --out " + (d / "run"));
  expect_one_error(r, 1, {"epoch 2 step", "the checkpoint of epoch 1 (the last good one) is kept"});
  auto info = read_text(d / "run/run.json");
  EXPECT_TRUE(has(info, "\"status\": \"failed\"")) << info;
  auto e = lrbench("eval " + (d / "run"));
  EXPECT_EQ(e.code, 0) << e.out;
  EXPECT_TRUE(has(e.out, "MLP")) << e.out;
}

TEST(CliNonFinite, EvalRefusesACheckpointHoldingNaN) {
  test::TempDir d;
  ASSERT_EQ(lrbench("train " + demo() + kSmall + "train.epochs=1 --out " + (d / "run")).code, 0);
  // A NaN written into a stored weight, with run.json updated to match (as a run from before the
  // non-finite guards would have recorded it).
  torch::Tensor bias = stored_bias(d / "run/checkpoint.pt");
  const float v = bias[3].item<float>();
  auto bytes = read_text(d / "run/checkpoint.pt");
  auto at = bytes.find(std::string(reinterpret_cast<const char*>(&v), 4));
  ASSERT_NE(at, std::string::npos);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  bytes.replace(at, 4, std::string(reinterpret_cast<const char*>(&nan), 4));
  std::ofstream(d / "run/checkpoint.pt", std::ios::binary | std::ios::trunc) << bytes;
  auto info = read_text(d / "run/run.json");
  info = std::regex_replace(info, std::regex("\"sha256\": \"[0-9a-f]+\""),
                            "\"sha256\": \"" + digest_hex(bytes.data(), bytes.size()) + "\"");
  write_text_atomic(d / "run/run.json", info);
  auto e = lrbench("eval " + (d / "run"));
  expect_one_error(e, 1, {"checkpoint.pt: 'fc0.bias' holds NaN or Inf"});
  EXPECT_FALSE(std::filesystem::exists(d / "run/eval/clean.csv"));
}

// ---- 2. config documents and overrides ------------------------------------------------------------

TEST(CliConfig, EmptyOverrideValueIsAnError) {
  auto r = lrbench("check " + demo() + " train.epochs=");
  expect_one_error(r, 2, {"<command line>:1:1", "override 'train.epochs=' has no value"});
  auto n = lrbench("check " + demo() + " train.epochs=null");
  expect_one_error(n, 2, {"train.epochs: no value"});
}

TEST(CliConfig, SecondDocumentAndHostileFilesGiveOneLineNamingTheFile) {
  test::TempDir d;
  std::ofstream(d / "two.yaml") << "defaults: [dataset: fashion-mnist, model: mlp, trainer: bp]\nname: two\n"
                                   "train:\n  epochs: 3\n---\ntrain:\n  epochs: 1\n";
  auto r = lrbench("check " + (d / "two.yaml"));
  expect_one_error(r, 2, {d / "two.yaml:5:", "second YAML document"});
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  std::ofstream(d / "bomb.yaml") << bomb;
  auto b = lrbench("check " + (d / "bomb.yaml"));
  expect_one_error(b, 2, {d / "bomb.yaml: more than"});
  std::ofstream(d / "deep.yaml") << "a: " << std::string(50000, '[') << std::string(50000, ']') << "\n";
  auto deep = lrbench("check " + (d / "deep.yaml"));
  expect_one_error(deep, 2, {d / "deep.yaml:1:", "nested deeper than"});
}

TEST(CliConfig, GroupChoiceBeforeFieldOverrideWhateverTheOrderAndHashIgnoresRestatedDefaults) {
  auto a = lrbench("check " + demo() + " model.hidden=[512] model=mlp");
  auto b = lrbench("check " + demo() + " model=mlp model.hidden=[512]");
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_TRUE(has(a.out, "hidden: [512]")) << a.out;
  EXPECT_EQ(spec_of(a), spec_of(b));
  auto plain = lrbench("check " + demo());
  auto restated = lrbench("check " + demo() + " model=mlp trainer=bp dataset=fashion-mnist");
  EXPECT_EQ(spec_of(plain), spec_of(restated));
  EXPECT_NE(spec_of(plain), spec_of(a));
}

// ---- 3. checkpoint integrity -----------------------------------------------------------------------

TEST(CliCheckpoint, AlteredCheckpointIsRefusedNamingTheFile) {
  test::TempDir d;
  ASSERT_EQ(lrbench("train " + demo() + kSmall + "train.epochs=1 --out " + (d / "run")).code, 0);
  auto info = read_text(d / "run/run.json");
  auto bytes = read_text(d / "run/checkpoint.pt");
  EXPECT_TRUE(has(info, digest_hex(bytes.data(), bytes.size()))) << info;
  // One stored float changed (its lowest mantissa bit): LibTorch would load it without complaint.
  torch::Tensor bias = stored_bias(d / "run/checkpoint.pt");
  const float v = bias[0].item<float>();
  auto at = bytes.find(std::string(reinterpret_cast<const char*>(&v), 4));
  ASSERT_NE(at, std::string::npos);
  bytes[at] ^= 1;
  std::ofstream(d / "run/checkpoint.pt", std::ios::binary | std::ios::trunc) << bytes;
  auto e = lrbench("eval " + (d / "run"));
  expect_one_error(e, 1, {d / "run/checkpoint.pt: sha256", "does not match"});
  EXPECT_FALSE(std::filesystem::exists(d / "run/eval/clean.csv"));
}

// ---- 4. run-directory lifecycle --------------------------------------------------------------------

TEST(CliRunDir, AnOutDirHoldingARunIsRefusedAndEvalChecksTheRunIsWhole) {
  test::TempDir d;
  ASSERT_EQ(lrbench("train " + demo() + kSmall + "train.epochs=1 --out " + (d / "run")).code, 0);
  auto before = read_text(d / "run/config.resolved.yaml");
  auto other = lrbench("train " + demo() + kSmall + "train.epochs=1 seed=1 --out " + (d / "run"));
  expect_one_error(other, 2, {d / "run", "holds another run"});
  auto same = lrbench("train " + demo() + kSmall + "train.epochs=1 --out " + (d / "run"));
  expect_one_error(same, 2, {"same spec", "--resume"});
  EXPECT_EQ(read_text(d / "run/config.resolved.yaml"), before);  // the first run is untouched
  ASSERT_EQ(lrbench("eval " + (d / "run")).code, 0);
  std::ofstream(d / "notes.txt") << "x";
  auto stray = lrbench("train " + demo() + kSmall + "--out " + d.path());
  expect_one_error(stray, 2, {"holds no lrbench run"});
  // A directory mixing two runs (another run's config beside this one's checkpoint) is refused.
  ASSERT_EQ(lrbench("train " + demo() + kSmall + "train.epochs=1 seed=1 --out " + (d / "run2")).code, 0);
  std::filesystem::copy_file(d / "run2/config.resolved.yaml", d / "run/config.resolved.yaml",
                             std::filesystem::copy_options::overwrite_existing);
  auto mixed = lrbench("eval " + (d / "run"));
  expect_one_error(mixed, 1, {"config.resolved.yaml: belongs to spec", "mixes two runs"});
  std::filesystem::remove(d / "run2/run.json");
  auto no_record = lrbench("eval " + (d / "run2"));
  expect_one_error(no_record, 1, {"run.json: not found"});
}

// ---- 5. check catches what train rejects -----------------------------------------------------------

TEST(CliCheck, ModelOptionsAndModelDatasetFitAreCheckedWithoutReadingData) {
  test::TempDir d;
  const std::string no_data = "LRBENCH_DATA=" + (d / "empty");  // proves nothing is read
  auto typo = lrbench("check " + demo() + " model.hiden=[512]", no_data);
  expect_one_error(typo, 2, {"unknown key 'hiden' in 'model'", "did you mean 'hidden'?"});
  auto bad_value = lrbench("check " + demo() + " model.activation=rleu", no_data);
  expect_one_error(bad_value, 2, {"model.activation"});
  for (std::string ds : {"cora", "ag-news"}) {
    auto r = lrbench("check " + demo() + " dataset=" + ds, no_data);
    expect_one_error(r, 2, {"model 'mlp' takes image input but dataset '" + ds + "'"});
    auto t = lrbench("train " + demo() + " dataset=" + ds + " --out " + (d / "run"), no_data);
    expect_one_error(t, 2, {"model 'mlp' takes image input"});
  }
  // The trainer's fit to the model (here: one copy count per layer of a 2-layer MLP) is checked too.
  auto copies = lrbench("check " + demo() + " trainer=lr-wl trainer.copies=[1,2,3,4,5]", no_data);
  expect_one_error(copies, 2, {"trainer.copies has 5 entries", "2 perturbable layers"});
  // The gradcheck section, read only by `lrbench gradcheck`, is checked too.
  auto gc = lrbench("check " + test::source_dir() + "/experiments/fig1/base.yaml gradcheck.batch_sise=3", no_data);
  expect_one_error(gc, 2, {"unknown key 'batch_sise' in 'gradcheck'", "did you mean 'batch_size'?"});
  auto ok = lrbench("check " + demo() + " model.hidden=[512]", no_data);
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_FALSE(std::filesystem::exists(d / "run"));
}

// Found by trying the fixes as a new user: more members of the same kinds.
TEST(CliConfig, NonUtf8DirectoryNullSectionsEmptyListsAndRepeatedOverridesAreErrors) {
  test::TempDir d;
  const std::string no_data = "LRBENCH_DATA=" + (d / "empty");
  // A Latin-1 'é' used to pass `check`, train a whole epoch, then fail writing run.json (half a run).
  std::ofstream(d / "latin1.yaml") << "defaults: [dataset: fashion-mnist, model: mlp, trainer: bp]\nname: caf\xe9\n";
  expect_one_error(lrbench("check " + (d / "latin1.yaml"), no_data), 2, {d / "latin1.yaml:2:10", "not UTF-8"});
  auto t = lrbench("train " + (d / "latin1.yaml") + " --out " + (d / "lat"), no_data);
  expect_one_error(t, 2, {"not UTF-8"});
  EXPECT_FALSE(std::filesystem::exists(d / "lat"));
  expect_one_error(lrbench("check " + d.path(), no_data), 2, {"is a directory"});
  // A null section silently meant "the code's defaults" (train=null ran 1 epoch, not the file's 3).
  expect_one_error(lrbench("check " + demo() + " train=null", no_data), 2, {"train: no value"});
  std::ofstream(d / "empty_train.yaml") << "defaults: [dataset: fashion-mnist, model: mlp, trainer: bp]\nname: e\n"
                                            "train:\n";
  expect_one_error(lrbench("check " + (d / "empty_train.yaml"), no_data), 2, {"train: no value"});
  // An empty per-layer list silently meant "the preset".
  expect_one_error(lrbench("check " + demo() + " trainer=lr-l trainer.copies=[]", no_data), 2,
                   {"trainer.copies: empty list"});
  // A key given twice: not "the last one wins".
  expect_one_error(lrbench("check " + demo() + " train.epochs=2 train.epochs=3", no_data), 2,
                   {"<command line>:1:2", "'train.epochs' is overridden twice"});
  expect_one_error(lrbench("check " + demo() + " model=mlp model=resnet5", no_data), 2, {"overridden twice"});
}

TEST(CliCheck, ThreadsDeviceAndModelShapeAreCheckedLikeTrain) {
  test::TempDir d;
  const std::string no_data = "LRBENCH_DATA=" + (d / "empty");
  expect_one_error(lrbench("check " + demo() + " threads=abc", no_data), 2, {"threads: invalid value"});
  expect_one_error(lrbench("check " + demo() + " threads=-1", no_data), 2, {"threads: invalid value"});
  expect_one_error(lrbench("check " + demo() + " device=gpu", no_data), 2, {"device: invalid value"});
  EXPECT_EQ(lrbench("check " + demo() + " threads=2 device=cpu", no_data).code, 0);
  // ResNet-5 on 28x28 Fashion-MNIST: a config error at the model entry, not a runtime error.
  expect_one_error(lrbench("check " + demo() + " model=resnet5", no_data), 2,
                   {"model cannot take dataset 'fashion-mnist'", "32x32"});
}

TEST(CliUsage, ParseErrorsAndBadOutPathsExitTwo) {
  test::TempDir d;
  const std::string no_data = "LRBENCH_DATA=" + (d / "empty");
  EXPECT_EQ(lrbench("", no_data).code, 2);
  EXPECT_EQ(lrbench("check", no_data).code, 2);
  EXPECT_EQ(lrbench("check --bogus " + demo(), no_data).code, 2);
  EXPECT_EQ(lrbench("--help", no_data).code, 0);
  expect_one_error(lrbench("train " + demo() + " --out ''", no_data), 2, {"--out", "empty path"});
  std::ofstream(d / "afile") << "x";
  expect_one_error(lrbench("train " + demo() + " --out " + (d / "afile/sub"), no_data), 2,
                   {"--out: '", "goes through", "which is a file"});
}
