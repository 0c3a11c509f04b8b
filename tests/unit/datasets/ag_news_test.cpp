// AG News: CSV parsing, the missing train.csv message, the seeded split_from_test, encoding.
#include "datasets/ag_news.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

using datasets::AgNews;

const AgNews& ag(const std::unique_ptr<DatasetSource>& s) { return dynamic_cast<const AgNews&>(*s); }

TEST(AgNewsCsv, ParsesQuotesDoubledQuotesAndBackslashBreaks) {
  auto rows = datasets::parse_ag_news_csv(
      "\"3\",\"Title \"\"x\"\"\",\"a, b\\nation\"\n\"1\",\"\",\"Wall St. #39;s &lt;TXN.N&gt; #36;10\"\r\n\n", "t.csv",
      true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, 2);
  EXPECT_EQ(rows[0].text, "Title \"x\" a, b nation");
  EXPECT_EQ(rows[1].label, 0);
  EXPECT_EQ(rows[1].text, " Wall St.'s <TXN.N> $10");
  auto raw = datasets::parse_ag_news_csv("\"1\",\"a\",\"St. #39;s\"\n", "t.csv", false);
  EXPECT_EQ(raw[0].text, "a St. #39;s");
  EXPECT_THROW(datasets::parse_ag_news_csv("\"5\",\"a\",\"b\"\n", "t.csv", true), DataError);
  EXPECT_THROW(datasets::parse_ag_news_csv("\"1\",\"a\"\n", "t.csv", true), DataError);
  EXPECT_THROW(datasets::parse_ag_news_csv("\"1\",\"a\",\"b\n", "t.csv", true), DataError);
}

TEST(AgNewsCsv, RealTestFileHas1900PerClass) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  const std::string path = data_root() + "/ag_news/test.csv";
  auto rows = datasets::parse_ag_news_csv(slurp(path), path, true);
  ASSERT_EQ(rows.size(), 7600u);
  std::vector<int> counts(4);
  for (const auto& r : rows) ++counts[r.label];
  EXPECT_EQ(counts, (std::vector<int>{1900, 1900, 1900, 1900}));
  EXPECT_EQ(rows[0].label, 2);
  EXPECT_EQ(rows[0].text.rfind("Fears for T N pension after talks Unions representing workers", 0), 0u);
  for (const auto& r : rows) EXPECT_EQ(r.text.find("#39;"), std::string::npos) << r.text;
  // "a second\team" is a line break before "team", not a tab.
  EXPECT_NE(rows[1].text.find("A second team of rocketeers"), std::string::npos) << rows[1].text;
}

TEST(AgNews, MissingTrainCsvSaysWhatAndHow) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  if (std::filesystem::exists(data_root() + "/ag_news/train.csv")) GTEST_SKIP() << "train.csv present";
  std::string msg = data_error([] { load_source("name: ag-news\n"); });
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_NE(msg.find("ag_news/train.csv: missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("29470338 bytes, md5 b1a00f826fdf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tools/fetch_data.sh ag-news"), std::string::npos) << msg;
  EXPECT_NE(msg.find("split_from_test: N"), std::string::npos) << msg;
  auto checks = make_source("name: ag-news\n")->verify();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(checks[0].ok) << checks[0].detail;
  EXPECT_FALSE(checks[1].ok);
  EXPECT_TRUE(make_source("name: ag-news\nsplit_from_test: 10\n")->verify()[1].ok);
}

// What the text threats get from the dataset: the vocabulary behind the ids, and one sentence number per
// token of every test row (the title first, as its own sentence).
TEST(AgNews, ExposesVocabularyAndTestSentences) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  auto a = load_source("name: ag-news\nsplit_from_test: 4000\n", 1);
  ASSERT_NE(a->vocabulary(), nullptr);
  EXPECT_EQ(a->vocabulary(), &ag(a).vocab());
  auto sentences = a->test_sentences();
  const auto& test = a->test();
  ASSERT_EQ(static_cast<int64_t>(sentences.size()), test.x.size(0));
  int64_t multi = 0;
  for (int64_t i = 0; i < test.x.size(0); ++i) {
    ASSERT_EQ(static_cast<int64_t>(sentences[i].size()), test.lengths[i].item<int64_t>()) << "row " << i;
    EXPECT_EQ(sentences[i].front(), 0);
    for (size_t t = 1; t < sentences[i].size(); ++t) ASSERT_LE(sentences[i][t] - sentences[i][t - 1], 1);
    multi += sentences[i].back() > 0;
  }
  EXPECT_GT(multi, test.x.size(0) * 9 / 10) << "the title should almost always be a sentence of its own";
}

TEST(AgNews, SplitFromTestIsStratifiedSeededAndLabelled) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  auto a = load_source("name: ag-news\nsplit_from_test: 4000\n", 1);
  auto b = load_source("name: ag-news\nsplit_from_test: 4000\n", 1);
  auto c = load_source("name: ag-news\nsplit_from_test: 4000\n", 2);
  EXPECT_EQ(a->train().y.size(0), 4000);
  EXPECT_EQ(a->test().y.size(0), 3600);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(count_of(a->train().y, k), 1000);
    EXPECT_EQ(count_of(a->test().y, k), 900);
  }
  EXPECT_EQ(ag(a).texts(true), ag(b).texts(true));
  EXPECT_TRUE(torch::equal(a->train().x, b->train().x));
  EXPECT_NE(ag(a).texts(true), ag(c).texts(true));
  // Train and test are disjoint and together are test.csv.
  std::set<std::string> train(ag(a).texts(true).begin(), ag(a).texts(true).end());
  int overlap = 0;
  for (const auto& t : ag(a).texts(false)) overlap += train.count(t);
  EXPECT_LE(overlap, 5);  // test.csv holds a few duplicate articles
  if (!std::filesystem::exists(data_root() + "/ag_news/train.csv")) {
    EXPECT_EQ(a->label(), "ag-news [train split_from_test=4000 of test.csv; no official train.csv]");
  }
  EXPECT_THROW(make_source("name: ag-news\nsplit_from_test: 7600\n")->load(), ConfigError);
  EXPECT_THROW(make_source("name: ag-news\nsplit_from_test: 0\n"), ConfigError);
}

TEST(AgNews, UnevenSplitKeepsProportions) {
  auto pick = datasets::stratified_pick({0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, 5, 3);
  ASSERT_EQ(pick.size(), 5u);
  EXPECT_TRUE(std::is_sorted(pick.begin(), pick.end()));
  int c0 = 0, c1 = 0;
  for (auto i : pick) c0 += i < 4, c1 += i == 4 || i == 5;
  EXPECT_EQ(c0, 2);
  EXPECT_EQ(c1, 1);
}

TEST(AgNews, EncodingVocabAndOptions) {
  LRB_REQUIRE_DATA("ag_news/test.csv");
  auto src = load_source("name: ag-news\nsplit_from_test: 2000\nmax_len: 20\nmax_vocab: 5000\nlimit_test: 300\n");
  const Batch& tr = src->train();
  EXPECT_EQ(tr.modality, Modality::kText);
  EXPECT_EQ(tr.x.sizes(), (std::vector<int64_t>{2000, 20}));
  EXPECT_EQ(tr.x.scalar_type(), torch::kLong);
  EXPECT_EQ(src->test().x.size(0), 300);
  EXPECT_TRUE((tr.lengths >= 1).all().item<bool>());
  EXPECT_TRUE((tr.lengths <= 20).all().item<bool>());
  const auto& v = ag(src).vocab();
  EXPECT_EQ(v.size(), 5000);
  EXPECT_EQ(src->input_spec().vocab_size, 5000);
  EXPECT_EQ(src->input_spec().shape, (std::vector<int64_t>{20}));
  EXPECT_EQ(v.word(0), "<pad>");
  EXPECT_EQ(v.word(1), "<unk>");
  // Row 0: ids are the vocabulary ids of its first tokens, padding after its length.
  auto words = datasets::tokenize(ag(src).texts(true)[0]);
  const int64_t len = tr.lengths[0].item<int64_t>();
  EXPECT_EQ(len, std::min<int64_t>(20, words.size()));
  for (int64_t t = 0; t < len; ++t) EXPECT_EQ(tr.x[0][t].item<int64_t>(), v.id(words[t]));
  for (int64_t t = len; t < 20; ++t) EXPECT_EQ(tr.x[0][t].item<int64_t>(), 0);
  EXPECT_EQ(ag(src).test_tokens().size(), 300u);
  if (!std::filesystem::exists(data_root() + "/ag_news/train.csv")) {
    EXPECT_EQ(src->label(), "ag-news [train split_from_test=2000 of test.csv; no official train.csv; limit_test=300]");
  }

  // Without a size cap every training word is known; min_freq drops rare ones.
  auto all = load_source("name: ag-news\nsplit_from_test: 2000\nmax_vocab: 1000000\n");
  EXPECT_FALSE((all->train().x == datasets::Vocab::kUnk).any().item<bool>());
  EXPECT_TRUE((all->test().x == datasets::Vocab::kUnk).any().item<bool>());  // test-only words
  auto rare = load_source("name: ag-news\nsplit_from_test: 2000\nmax_vocab: 1000000\nmin_freq: 3\n");
  EXPECT_LT(ag(rare).vocab().size(), ag(all).vocab().size());
}

}  // namespace
}  // namespace lrb::test
