#include "core/csv.h"

#include <locale>

#include "core/errors.h"
#include "tests/support/support.h"

using namespace lrb;

namespace {
// A locale whose decimal point is a comma, available on every machine (no de_DE needed).
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
  char do_thousands_sep() const override { return '.'; }
  std::string do_grouping() const override { return "\3"; }
};
}  // namespace

TEST(Csv, QuotesPerRfc4180) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
}

TEST(Csv, NumbersIgnoreTheGlobalLocale) {
  auto old = std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
  CsvTable t({"x", "y"});
  t.add({csv_number(1234.5), csv_number(0.000123456789)});
  std::locale::global(old);
  EXPECT_EQ(t.str(), "x,y\n1234.5,0.000123457\n");
}

TEST(Csv, ParseInvertsStr) {
  CsvTable t({"model", "dataset"});
  t.add({"ResNet-5", "cifar10 [LOSSY, \"q75\"]"});
  auto back = CsvTable::parse(t.str(), "mem");
  EXPECT_EQ(back.rows(), t.rows());
  EXPECT_EQ(back.header(), t.header());
}

TEST(Csv, RaggedRowIsAnError) {
  EXPECT_THROW(CsvTable::parse("a,b\n1\n", "mem"), DataError);
  EXPECT_THROW(CsvTable({"a"}).add({"1", "2"}), std::logic_error);
}
