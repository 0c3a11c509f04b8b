#include "core/csv.h"

#include <fmt/format.h>

#include <stdexcept>

#include "core/errors.h"
#include "core/fs.h"

namespace lrb {

std::string csv_escape(const std::string& f) {
  if (f.find_first_of(",\"\n\r") == std::string::npos) return f;
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double v, int significant) { return fmt::format("{:.{}g}", v, significant); }

void CsvTable::add(std::vector<std::string> row) {
  if (row.size() != header_.size())
    throw std::logic_error(fmt::format("csv row has {} fields, header has {}", row.size(), header_.size()));
  rows_.push_back(std::move(row));
}

std::string CsvTable::str() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    if (r.size() == 1 && r[0].empty()) out += "\"\"";  // else an empty line, which a reader skips
    for (size_t i = 0; i < r.size(); ++i) {
      if (i) out += ',';
      out += csv_escape(r[i]);
    }
    out += '\n';
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

void CsvTable::save(const std::string& path) const { write_text_atomic(path, str()); }

CsvTable CsvTable::parse(const std::string& text, const std::string& label) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true, any = true;
    } else if (c == ',') {
      row.push_back(field), field.clear(), any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) row.push_back(field);
      if (!row.empty()) rows.push_back(row);
      row.clear(), field.clear(), any = false;
    } else {
      field += c, any = true;
    }
  }
  if (quoted) throw DataError(fmt::format("{}: unterminated quoted field", label));
  if (any || !field.empty()) row.push_back(field), rows.push_back(row);
  if (rows.empty()) throw DataError(fmt::format("{}: empty CSV (expected a header line)", label));
  CsvTable t(rows.front());
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() != t.header_.size())
      throw DataError(fmt::format("{}:{}: {} fields (expected {})", label, i + 1, rows[i].size(), t.header_.size()));
    t.rows_.push_back(rows[i]);
  }
  return t;
}

CsvTable CsvTable::load(const std::string& path) { return parse(read_text(path), path); }

}  // namespace lrb
