#include "datasets/manifest.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <utility>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb::datasets {

namespace {

constexpr int64_t kCifarBatch = 30730000;  // 10000 records x (1 label + 3072 pixel bytes)
constexpr int64_t kIdxTrainImages = 47040016, kIdxTrainLabels = 60008, kIdxTestImages = 7840016,
                  kIdxTestLabels = 10008;
constexpr const char* kLossy = "LOSSY JPEG q75 copy; test order not original";

using Table = std::map<std::pair<std::string, std::string>, Expected>;

// Every value below is copied from shared/data/README.md (decompressed content where the file is .gz).
const Table& table() {
  static const Table t = {
      {{"mnist", "train-images-idx3-ubyte"},
       {kIdxTrainImages, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", "", ""}},
      {{"mnist", "train-labels-idx1-ubyte"},
       {kIdxTrainLabels, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "", ""}},
      {{"mnist", "t10k-images-idx3-ubyte"},
       {kIdxTestImages, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", "", ""}},
      {{"mnist", "t10k-labels-idx1-ubyte"},
       {kIdxTestLabels, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", "", ""}},
      {{"fashion-mnist", "train-images-idx3-ubyte"},
       {kIdxTrainImages, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", "", ""}},
      {{"fashion-mnist", "train-labels-idx1-ubyte"},
       {kIdxTrainLabels, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", "", ""}},
      {{"fashion-mnist", "t10k-images-idx3-ubyte"},
       {kIdxTestImages, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", "", ""}},
      {{"fashion-mnist", "t10k-labels-idx1-ubyte"},
       {kIdxTestLabels, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", "", ""}},
      // Official CIFAR-10 binaries: no sha256 is pinned here; size and label bytes are checked instead.
      {{"cifar10-official", "data_batch_1.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-official", "data_batch_2.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-official", "data_batch_3.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-official", "data_batch_4.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-official", "data_batch_5.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-official", "test_batch.bin"}, {kCifarBatch, "", "", ""}},
      {{"cifar10-lossy", "data_batch_1.bin"},
       {kCifarBatch, "8da035fc1631e8ce5f25904206b8993b0f3ad02a504c0584d662e806fd76c12b", "", kLossy}},
      {{"cifar10-lossy", "data_batch_2.bin"},
       {kCifarBatch, "106eeaad9f1fa7a999292fdafe68ee909080f58aee038a76994035aedf40ba26", "", kLossy}},
      {{"cifar10-lossy", "data_batch_3.bin"},
       {kCifarBatch, "99cb88ba00fca88bf28c517a74307b6b78a346c6ea747a561cb8e660c787d5cb", "", kLossy}},
      {{"cifar10-lossy", "data_batch_4.bin"},
       {kCifarBatch, "76b482bc3bb79c0370e48ea71bb6e4f567a3770d224dc09a9ddc8cfa2369f294", "", kLossy}},
      {{"cifar10-lossy", "data_batch_5.bin"},
       {kCifarBatch, "490f5ead4f04a3eb71d5898eb551e0d8d2c592feb778fb9b109a006b3f231495", "", kLossy}},
      {{"cifar10-lossy", "test_batch.bin"},
       {kCifarBatch, "2696e48ae3fe74d50ecaacc0b8092b89bf95cd3f6471d079f4cbd39a956c18c3", "", kLossy}},
      {{"cifar10-lossless-partial", "data_batch_1_first4000.bin"},
       {12292000, "0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330", "",
        "lossless partial: first 4000 train records"}},
      {{"cifar10-lossless-partial", "test_batch_first1000.bin"},
       {3073000, "8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5", "",
        "lossless partial: first 1000 test records"}},
      {{"ag-news", "test.csv"}, {1857427, "521465c2428ed7f02f8d6db6ffdd4b5447c1c701962353eb2c40d548c3c85699", "", ""}},
      {{"ag-news", "train.csv"}, {29470338, "", "b1a00f826fdfbd249f79597b59e1dc12", ""}},
      {{"cora", "cora.content"}, {7778974, "fd9561c177d4873b94402470f1e39c9a7213137d04347b58215644c88b49bca8", "", ""}},
      {{"cora", "cora.cites"}, {48436, "a6cafe6abd12b83df937f643562bbc019baa15938937937b63dd59e419e7030c", "", ""}},
      {{"cora", "cora.split.train.txt"},
       {450, "c0de86e68a97de4dfd324bb56ad0be175cd772c0d1e2d23d51dca66762abe524", "", ""}},
      {{"cora", "cora.split.val.txt"},
       {2000, "a3ce6ed911f90d6d6424f5776bb20d7f1f9b24732e4b2d99d6cd4163308b66c7", "", ""}},
      {{"cora", "cora.split.test.txt"},
       {5000, "fa3a51f3bf640543e579d2536ef3eaec80178f157ad0d6bf5b8ed61716144416", "", ""}},
  };
  return t;
}

std::string prefix(const std::string& hex) { return hex.substr(0, 12) + "..."; }

// Whole decompressed content; `damage` is zlib's complaint about a broken gzip stream (empty when intact).
struct Content {
  std::string bytes;
  std::string damage;
  bool gz = false;
};

// Files without a pinned size are read up to this much (decompressed); the largest known file is 178 MB.
constexpr int64_t kUnpinnedLimit = int64_t{1} << 31;

// Decompression stops one byte past the manifest's size: a file that inflates beyond it (a gzip bomb, a wrong
// file) is "too long" after reading size + 1 bytes, never after filling memory.
Content read_content(const std::string& path, int64_t size_hint) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw DataError(errno == EACCES ? fmt::format("{}: no read permission; chmod u+r it (or set LRBENCH_DATA / "
                                                  "data_root to a readable copy)",
                                                  path)
                                    : fmt::format("{}: cannot open file ({})", path, std::strerror(errno)));
  gzbuffer(f, 1 << 18);
  Content c;
  c.gz = gzdirect(f) == 0;
  const int64_t limit = size_hint >= 0 ? size_hint + 1 : kUnpinnedLimit;
  if (size_hint > 0) c.bytes.reserve(static_cast<size_t>(limit));
  constexpr int64_t kChunk = int64_t{1} << 22;
  for (;;) {
    const auto old = static_cast<int64_t>(c.bytes.size());
    const int64_t want = std::min(kChunk, limit - old);
    if (want <= 0) break;
    c.bytes.resize(static_cast<size_t>(old + want));
    int n = gzread(f, &c.bytes[static_cast<size_t>(old)], static_cast<unsigned>(want));
    c.bytes.resize(static_cast<size_t>(old + (n > 0 ? n : 0)));
    if (n <= 0) break;
  }
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  if (err == Z_BUF_ERROR) {
    c.damage = "truncated (gzip stream ends early)";
  } else if (err != Z_OK) {
    std::string m = msg ? msg : "error";
    if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);  // zlib prefixes the path we print anyway
    c.damage = fmt::format("damaged gzip stream (zlib: {})", m);
  }
  if (c.gz && c.bytes.empty() && c.damage.empty()) c.damage = "empty gzip stream";
  gzclose_r(f);
  return c;
}

// "" when `c` matches `e`, else the problem and what was found.
std::string problem(const Content& c, const Expected& e, const FormatCheck& format) {
  const auto n = static_cast<int64_t>(c.bytes.size());
  auto found = [&] {
    std::string s = fmt::format("found {} bytes", n);
    if (!e.sha256.empty()) s += ", sha256 " + prefix(digest_hex(c.bytes.data(), c.bytes.size(), "sha256"));
    else if (!e.md5.empty()) s += ", md5 " + prefix(digest_hex(c.bytes.data(), c.bytes.size(), "md5"));
    return s;
  };
  auto line = [&](const std::string& what) {
    return fmt::format("{} (expected{} {}; {})", what, c.gz ? " after gunzip" : "", describe(e), found());
  };
  if (!c.damage.empty()) return line(c.damage);
  if (e.size >= 0 && n < e.size) return line("truncated");
  if (e.size >= 0 && n > e.size) return line("altered (too long)");
  if (!e.sha256.empty() && digest_hex(c.bytes.data(), c.bytes.size(), "sha256") != e.sha256)
    return line("altered (sha256 differs)");
  if (e.sha256.empty() && !e.md5.empty() && digest_hex(c.bytes.data(), c.bytes.size(), "md5") != e.md5)
    return line("altered (md5 differs)");
  if (format)
    if (auto bad = format(c.bytes); !bad.empty()) return line("bad format: " + bad);
  return "";
}

std::string missing_line(const std::string& dir, const std::string& name, const Expected& e,
                         const std::string& dataset) {
  return fmt::format("{}/{}: missing (also looked for {}.gz; expected {}); {}", dir, name, name, describe(e),
                     fetch_hint(dataset));
}

std::string ok_detail(const Expected& e) {
  std::string d = !e.sha256.empty() ? "sha256 ok" : !e.md5.empty() ? "md5 ok" : "size and format checked; no pinned sha256";
  if (!e.note.empty()) d += " (" + e.note + ")";
  return d;
}

}  // namespace

const Expected& expected(const std::string& group, const std::string& name) {
  auto it = table().find({group, name});
  if (it == table().end()) throw std::logic_error(fmt::format("manifest: no entry for {}/{}", group, name));
  return it->second;
}

std::string locate(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& candidate : {dir + "/" + name, dir + "/" + name + ".gz"})
    if (fs::is_regular_file(candidate, ec)) return candidate;
  return "";
}

namespace {
// Why neither candidate is a data file although one exists (a directory, FIFO, device), or "" (both missing).
std::string unusable(const std::string& dir, const std::string& name, const std::string& dataset) {
  for (const auto& candidate : {dir + "/" + name, dir + "/" + name + ".gz"}) {
    if (auto kind = non_regular_kind(candidate); !kind.empty())
      return fmt::format("{}: is {}, not the data file; remove or rename it and {}", candidate, kind,
                         fetch_hint(dataset));
  }
  return "";
}
}  // namespace

std::string fetch_hint(const std::string& dataset) {
  return fmt::format("get the official files with tools/fetch_data.sh {} (or set LRBENCH_DATA / data_root)", dataset);
}

std::string describe(const Expected& e) {
  std::string s = e.size >= 0 ? fmt::format("{} bytes", e.size) : "unknown size";
  if (!e.sha256.empty()) s += ", sha256 " + prefix(e.sha256);
  else if (!e.md5.empty()) s += ", md5 " + prefix(e.md5);
  else s += ", no pinned sha256";
  return s;
}

std::string read_verified(const std::string& dir, const std::string& name, const Expected& e,
                          const std::string& dataset, const FormatCheck& format) {
  const std::string path = locate(dir, name);
  if (path.empty()) {
    if (auto bad = unusable(dir, name, dataset); !bad.empty()) throw DataError(bad);
    throw DataError(missing_line(dir, name, e, dataset));
  }
  Content c = read_content(path, e.size);
  if (auto bad = problem(c, e, format); !bad.empty())
    throw DataError(fmt::format("{}: {}; {}", path, bad, fetch_hint(dataset)));
  return std::move(c.bytes);
}

FileCheck check_file(const std::string& dir, const std::string& name, const Expected& e, const std::string& dataset,
                     const FormatCheck& format) {
  FileCheck fc;
  const std::string path = locate(dir, name);
  fc.file = path.empty() ? dir + "/" + name : path;
  try {
    read_verified(dir, name, e, dataset, format);
    fc.ok = true;
    fc.detail = ok_detail(e);
  } catch (const DataError& err) {
    fc.detail = err.what();
  }
  return fc;
}

}  // namespace lrb::datasets
