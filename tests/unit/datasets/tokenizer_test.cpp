// Tokenizer and vocabulary.
#include "datasets/tokenizer.h"
#include "tests/unit/datasets/dataset_test_util.h"

namespace lrb::test {
namespace {

using datasets::tokenize;
using datasets::Vocab;
using Words = std::vector<std::string>;

TEST(Tokenizer, LowerCasesAndSplitsOnNonAlphanumerics) {
  EXPECT_EQ(tokenize("Hello, World!  U.S.-based CO2 (3.5%)"), (Words{"hello", "world", "u", "s", "based", "co2", "3", "5"}));
  EXPECT_EQ(tokenize(""), Words{});
  EXPECT_EQ(tokenize(" ,.;-- "), Words{});
  EXPECT_EQ(tokenize("a\\b\tc\nd"), (Words{"a", "b", "c", "d"}));
  EXPECT_EQ(tokenize("caf\xc3\xa9 x"), (Words{"caf", "x"}));  // non-ASCII bytes separate words
}

TEST(Tokenizer, KeepsApostrophesInsideWords) {
  EXPECT_EQ(tokenize("Don't stop: it's Wall Street's"), (Words{"don't", "stop", "it's", "wall", "street's"}));
  EXPECT_EQ(tokenize("'quoted' players' ''"), (Words{"quoted", "players"}));
}

// The sentence splitter the shuffle corruption uses: the title is its own sentence, '.', '!' or '?' before a
// capital ends one, initials and title abbreviations do not, and every token gets exactly one number.
TEST(Tokenizer, SentenceIdsFollowTheTitleAndSentenceEnds) {
  const std::string title = "Wall St. Bears Claw Back Into the Black (Reuters)";
  const std::string text = title + " Reuters - Short-sellers, Wall Street's dwindling band of ultra-cynics, are seeing "
                                   "green again. U.S. stocks rose! Mr. Smith said \"Buy.\" Then he left.";
  std::vector<int32_t> expected;
  for (auto [sentence, n] : std::vector<std::pair<int32_t, int>>{{0, 9}, {1, 14}, {2, 4}, {3, 4}, {4, 3}})
    expected.insert(expected.end(), n, sentence);
  EXPECT_EQ(datasets::sentence_ids(text, {title.size()}), expected);
  EXPECT_EQ(datasets::sentence_ids(text, {title.size()}).size(), datasets::tokenize(text).size());
  // Without the seam the title runs into the description; a forced break inside a word is ignored.
  EXPECT_EQ(datasets::sentence_ids(text).front(), 0);
  EXPECT_EQ(datasets::sentence_ids(text)[9], 0);
  EXPECT_EQ(datasets::sentence_ids("one two", {2}), (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(datasets::sentence_ids("one. Two", {}), (std::vector<int32_t>{0, 1}));
  EXPECT_TRUE(datasets::sentence_ids("...", {}).empty());
}

TEST(Vocab, BuildOrdersByCountThenAlphabetAndHonoursLimits) {
  std::vector<Words> docs = {{"b", "a", "c", "a"}, {"c", "a", "d"}, {"e"}};
  Vocab v = Vocab::build(docs, 0, 1);
  ASSERT_EQ(v.size(), 7);
  EXPECT_EQ(v.word(0), "<pad>");
  EXPECT_EQ(v.word(1), "<unk>");
  EXPECT_EQ(v.word(2), "a");  // 3
  EXPECT_EQ(v.word(3), "c");  // 2
  EXPECT_EQ(v.word(4), "b");  // 1, alphabetical among ties
  EXPECT_EQ(v.id("zzz"), Vocab::kUnk);
  EXPECT_EQ(v.encode({"a", "zzz", "e"}), (std::vector<int64_t>{2, 1, 6}));
  EXPECT_THROW(v.word(7), std::out_of_range);

  Vocab frequent = Vocab::build(docs, 0, 2);
  EXPECT_EQ(frequent.size(), 4);  // <pad> <unk> a c
  EXPECT_FALSE(frequent.contains("b"));
  EXPECT_EQ(Vocab::build(docs, 3, 1).size(), 3);
}

TEST(Vocab, SaveLoadRoundTrip) {
  TempDir tmp;
  Vocab v = Vocab::build({{"x", "y", "y", "don't"}}, 0, 1);
  v.save(tmp / "vocab.txt");
  Vocab back = Vocab::load(tmp / "vocab.txt");
  ASSERT_EQ(back.size(), v.size());
  for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(back.word(i), v.word(i));
  EXPECT_EQ(back.id("don't"), v.id("don't"));
  spit(tmp / "bad.txt", "x\ny\n");
  EXPECT_THROW(Vocab::load(tmp / "bad.txt"), DataError);
}

}  // namespace
}  // namespace lrb::test
