#include "core/fs.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace lrb {

namespace {
std::string temp_name(const std::string& path) { return fmt::format("{}.tmp.{}", path, ::getpid()); }
}  // namespace

void write_atomic_path(const std::string& path, const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  auto parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  const std::string tmp = temp_name(path);
  try {
    write(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  write_atomic_path(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot create file (check the directory is writable)", tmp), 1);
    write(out);
    out.flush();
    if (!out) throw Error(fmt::format("{}: write failed (disk full?)", tmp), 1);
  });
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_atomic(path, [&](std::ostream& o) { o << text; });
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", path), 1);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string digest_hex(const void* data, size_t size, const char* algorithm) {
  const EVP_MD* md = EVP_get_digestbyname(algorithm);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, size, out, &len, md, nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return hex;
}

std::vector<std::string> split_path(const std::string& search_path) {
  std::vector<std::string> out;
  for (size_t a = 0, b; a <= search_path.size(); a = b + 1) {
    b = search_path.find(':', a);
    if (b == std::string::npos) b = search_path.size();
    if (b > a) out.push_back(search_path.substr(a, b - a));
  }
  return out;
}

void require_plain_name(const std::string& value, const std::string& where, const std::string& what) {
  std::string why;
  if (value.empty()) why = "is empty";
  else if (value == "." || value == "..") why = "is '" + value + "'";
  else if (value.size() > 255) why = "is longer than 255 bytes";
  else if (value.find('/') != std::string::npos) why = "contains '/'";
  else
    for (unsigned char ch : value)
      if (ch < 0x20 || ch == 0x7f) {
        why = "contains a control character";
        break;
      }
  if (why.empty()) return;
  std::string shown = value.size() > 60 ? value.substr(0, 60) + "..." : value;
  for (auto& ch : shown)
    if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
  throw ConfigError(where, fmt::format("{} '{}' {}: it names a file or folder, so it must be a plain name (no '/', "
                                       "'..' or control characters); rename it",
                                       what, shown, why));
}

}  // namespace lrb
