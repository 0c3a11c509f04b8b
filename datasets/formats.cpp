#include "datasets/formats.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/errors.h"

namespace lrb::datasets {

IdxArray parse_idx(const std::string& bytes, int ndim, const std::string& path) {
  auto u = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (bytes.size() < header || u[0] != 0 || u[1] != 0 || u[2] != 0x08 || u[3] != ndim)
    throw DataError(fmt::format("{}: not an unsigned-byte IDX file with {} dimensions (magic 0x{:08x})", path, ndim,
                                bytes.size() >= 4 ? (u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]) : 0));
  IdxArray a;
  // The product of up to four 32-bit sizes can overflow 64 bits: compare against the bytes present as it grows.
  const uint64_t have = bytes.size() - header;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t* p = u + 4 + 4 * d;
    a.dims.push_back(int64_t(p[0]) << 24 | int64_t(p[1]) << 16 | int64_t(p[2]) << 8 | int64_t(p[3]));
  }
  uint64_t count = std::count(a.dims.begin(), a.dims.end(), 0) ? 0 : 1;
  bool too_many = false;
  for (auto size : a.dims) {
    if (count != 0 && count > have / static_cast<uint64_t>(size)) too_many = true;
    count *= static_cast<uint64_t>(size);  // unsigned: wraps harmlessly once too_many is set
  }
  if (too_many || count != have)
    throw DataError(fmt::format("{}: IDX header promises {} data bytes ({}), file has {}", path,
                                too_many ? "more than the file's" : std::to_string(count),
                                fmt::join(a.dims, "x"), have));
  a.data = u + header;
  return a;
}

// Official files carry no pinned digest, so the record structure is what we can check.
std::string cifar_record_problem(const std::string& bytes) {
  if (bytes.size() % kCifarRecord != 0) return fmt::format("{} bytes is not a whole number of 3073-byte records", bytes.size());
  for (size_t r = 0; r < bytes.size(); r += kCifarRecord)
    if (static_cast<uint8_t>(bytes[r]) > 9)
      return fmt::format("label byte {} at record {} (expected 0..9)", int(uint8_t(bytes[r])), r / kCifarRecord);
  return "";
}

std::vector<std::vector<int64_t>> parse_int_rows(const std::string& bytes) {
  std::vector<std::vector<int64_t>> rows;
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  std::vector<int64_t> row;
  while (p < end) {
    if (*p == '\n') {
      if (!row.empty()) rows.push_back(std::move(row)), row.clear();
      ++p;
    } else if (std::isspace(static_cast<unsigned char>(*p))) {
      ++p;  // here, not inside strtoll, which would also skip a '\n' and so join two rows
    } else {
      char* q = nullptr;
      errno = 0;
      long long v = std::strtoll(p, &q, 10);  // stops at the NUL that std::string keeps after its bytes
      if (q == p) throw std::invalid_argument(fmt::format("line {}: not an integer", rows.size() + 1));
      if (errno == ERANGE) throw std::invalid_argument(fmt::format("line {}: integer out of range", rows.size() + 1));
      row.push_back(v);
      p = q;
    }
  }
  if (!row.empty()) rows.push_back(std::move(row));
  return rows;
}

namespace {

// The corpus keeps HTML remnants with the '&' dropped: "Wednesday #39;s", " #36;10", "&lt;TXN.N&gt;".
std::string unescape_html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      static const std::pair<const char*, char> named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
      bool hit = false;
      for (auto [name, ch] : named)
        if (s.compare(i, std::strlen(name), name) == 0) {
          out += ch, i += std::strlen(name) - 1, hit = true;
          break;
        }
      if (hit) continue;
    }
    if (s[i] == '#' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      size_t j = i + 1;
      while (j < s.size() && j - i <= 5 && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == ';') {
        const int code = std::stoi(s.substr(i + 1, j - i - 1));
        const bool apostrophe = code == 39 || code == 145 || code == 146;
        if (apostrophe && !out.empty() && out.back() == ' ') out.pop_back();  // "doesn #39;t" -> "doesn't"
        out += apostrophe ? '\'' : code == 147 || code == 148 ? '"' : code >= 32 && code < 127 ? char(code) : ' ';
        i = j;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string row_text(const std::string& title, const std::string& description, bool unescape) {
  std::string t = title + " " + description;
  std::replace(t.begin(), t.end(), '\\', ' ');
  return unescape ? unescape_html(t) : t;
}

// Cleaning is local except that an apostrophe code pops the space before it, which can merge the title's
// last word with the description's first: then there is no seam (0).
size_t title_size(const std::string& title, bool unescape) {
  std::string t = title;
  std::replace(t.begin(), t.end(), '\\', ' ');
  return unescape ? unescape_html(t).size() : t.size();
}

}  // namespace

std::vector<AgNewsRow> parse_ag_news_csv(const std::string& bytes, const std::string& path, bool unescape) {
  std::vector<AgNewsRow> rows;
  std::vector<std::string> fields;
  std::string field;
  int64_t line = 1, row_line = 1;
  bool quoted = false, was_quoted = false;
  auto end_row = [&] {
    fields.push_back(std::move(field));
    field.clear();
    if (!(fields.size() == 1 && fields[0].empty() && !was_quoted)) {  // tolerate blank lines
      if (fields.size() != 3)
        throw DataError(fmt::format("{}:{}: {} fields (expected 3: class, title, description)", path, row_line,
                                    fields.size()));
      if (fields[0].size() != 1 || fields[0][0] < '1' || fields[0][0] > '4')
        throw DataError(fmt::format("{}:{}: class '{}' (expected 1..4)", path, row_line, fields[0]));
      rows.push_back({fields[0][0] - '1', row_text(fields[1], fields[2], unescape), title_size(fields[1], unescape)});
    }
    fields.clear();
    was_quoted = false;
    row_line = line + 1;
  };
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (quoted) {
      if (c == '"' && i + 1 < bytes.size() && bytes[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c, line += c == '\n';
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (quoted) throw DataError(fmt::format("{}:{}: unterminated quoted field", path, row_line));
  if (!field.empty() || !fields.empty()) end_row();
  return rows;
}

}  // namespace lrb::datasets
