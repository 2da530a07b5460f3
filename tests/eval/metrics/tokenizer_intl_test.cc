#include "eval/metrics/tokenizer_intl.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "eval/metrics/intl_categories.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonStrings;
using ::emar::testing::VectorLine;

// testdata/metrics/tokenize_intl.jsonl: sacrebleu 2.6.0's TokenizerV14International (with
// python3-regex 2022.10.31) on the 13a vectors' inputs and the option vectors' sentences.
class IntlVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IntlVectorTest, MatchesSacrebleu) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const std::vector<std::string> inputs = JsonStrings((*v)["predictions"]);
  const std::vector<std::string> expected = JsonStrings((*v)["expected"]["tokenized"]);
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 50u);
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TokenizeIntl(inputs[i], &out);
    EXPECT_EQ(out, expected[i]) << "input: " << inputs[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, IntlVectorTest,
                         ::testing::ValuesIn(testing::VectorLines("tokenize_intl.jsonl")),
                         testing::VectorTestName);

std::string Intl(const std::string& line) {
  std::string out;
  TokenizeIntl(line, &out);
  return out;
}

TEST(TokenizerIntlTest, PunctuationBesideNumbersStays) {
  EXPECT_EQ(Intl("pi is 3.14, e is 2.72."), "pi is 3.14 , e is 2.72.");  // mteval-v14's quirk
  EXPECT_EQ(Intl("1,000€ (approx.)"), "1,000 € ( approx . )");
  EXPECT_EQ(Intl("«Oui» — dit-il…"), "« Oui » — dit - il …");
}

TEST(TokenizerIntlTest, Categories) {
  EXPECT_EQ(IntlCategories('.'), kIntlPunct);
  EXPECT_EQ(IntlCategories('$'), kIntlSymbol);
  EXPECT_EQ(IntlCategories('7'), kIntlNumber);
  EXPECT_EQ(IntlCategories(0x00B2), kIntlNumber);  // superscript two
  EXPECT_EQ(IntlCategories(0x2014), kIntlPunct);   // em dash
  EXPECT_EQ(IntlCategories('a'), 0);
  EXPECT_EQ(IntlCategories(' '), 0);
  EXPECT_EQ(IntlCategories(0x10FFFF), 0);
}

}  // namespace
}  // namespace emar
