// Locale-proof CSV: fmt formatting (never the C++ locale), RFC 4180 quoting, LF line endings.
#pragma once
#include <string>
#include <vector>

namespace lrb {

std::string csv_escape(const std::string& field);
std::string csv_number(double v, int significant = 6);

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row);  // must have exactly header().size() fields
  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  std::string str() const;
  void save(const std::string& path) const;  // atomic
  // Parses what str() writes (quoted fields, doubled quotes); the first line is the header.
  static CsvTable parse(const std::string& text, const std::string& label);
  static CsvTable load(const std::string& path);

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace lrb
