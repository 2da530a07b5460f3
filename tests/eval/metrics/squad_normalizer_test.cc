#include "eval/metrics/squad_normalizer.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonStrings;
using ::emar::testing::VectorLine;

std::string Norm(absl::string_view s) {
  SquadNormalizer n;
  std::string out;
  n.Normalize(s, &out);
  return out;
}

// normalized_prediction of every example of squad.jsonl.
class SquadNormalizeVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SquadNormalizeVectorTest, NormalizedPredictions) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const std::vector<std::string> preds = JsonStrings((*v)["predictions"]);
  size_t i = 0;
  for (simdjson::dom::element ex : (*v)["expected"]["per_example"].get_array()) {
    ASSERT_LT(i, preds.size());
    std::string_view expected = ex["normalized_prediction"].get_string().value();
    EXPECT_EQ(Norm(preds[i]), std::string(expected)) << "input: " << preds[i];
    ++i;
  }
}

INSTANTIATE_TEST_SUITE_P(Squad, SquadNormalizeVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("squad.jsonl")),
                         emar::testing::VectorTestName);

TEST(SquadNormalizerTest, PunctuationIsDeletedNotSpaced) {
  EXPECT_EQ(Norm("rock-n-roll"), "rocknroll");
  EXPECT_EQ(Norm("The-End"), "theend");
  EXPECT_EQ(Norm("$1,000.00"), "100000");
  EXPECT_EQ(Norm("!!!"), "");
}

TEST(SquadNormalizerTest, ArticlesUseUnicodeWordBoundaries) {
  EXPECT_EQ(Norm("the theater"), "theater");
  EXPECT_EQ(Norm("a an the"), "");
  EXPECT_EQ(Norm("an apple"), "apple");
  EXPECT_EQ(Norm("a\u2014b"), "\u2014b");     // em dash is not a word character: `a` goes
  EXPECT_EQ(Norm("\u00e9a b"), "\u00e9a b");  // é is a word character: no boundary before `a`
  EXPECT_EQ(Norm("a\u00e9"), "a\u00e9");
  EXPECT_EQ(Norm("x\u0301a y"), "x\u0301 y");  // a combining mark is not \w, so `a` is a word
  EXPECT_EQ(Norm("a\u0661"), "a\u0661");       // Arabic-Indic digit is \w
  EXPECT_EQ(Norm("THE END"), "end");
}

TEST(SquadNormalizerTest, UnicodeLowercaseAndWhitespace) {
  EXPECT_EQ(Norm("CAF\u00c9"), "caf\u00e9");
  EXPECT_EQ(Norm("\u039f\u0394\u039f\u03a3"), "\u03bf\u03b4\u03bf\u03c2");  // final sigma
  EXPECT_EQ(Norm("\u0130"), "i\u0307");
  EXPECT_EQ(Norm("\u00a0x\u3000\u2003y\u0085"), "x y");
  EXPECT_EQ(Norm("\u201cquoted\u201d"), "\u201cquoted\u201d");  // Unicode punctuation stays
}

TEST(SquadTokenF1Test, MultisetOverlap) {
  EXPECT_DOUBLE_EQ(SquadTokenF1("a a b", "a b b"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(SquadTokenF1("x y", "x y"), 1.0);
  EXPECT_EQ(SquadTokenF1("", ""), 0.0);
  EXPECT_EQ(SquadTokenF1("x", "y"), 0.0);
  // P = 1/3, R = 1 -> F1 = 0.5
  EXPECT_DOUBLE_EQ(SquadTokenF1("x y z", "x"), 0.5);
}

}  // namespace
}  // namespace emar
