#include "eval/metrics/tokenizer_13a.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonStrings;
using ::emar::testing::VectorLine;

std::string Tok(absl::string_view s) {
  Tokenizer13a t;
  std::string out;
  t.Tokenize(s, &out);
  return out;
}

// Every input of tokenize_13a.jsonl.
class Tokenize13aVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(Tokenize13aVectorTest, MatchesSacrebleu) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const std::vector<std::string> inputs = JsonStrings((*v)["predictions"]);
  const std::vector<std::string> expected = JsonStrings((*v)["expected"]["tokenized"]);
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_FALSE(inputs.empty());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(Tok(inputs[i]), expected[i]) << "input: " << inputs[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenize13a, Tokenize13aVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("tokenize_13a.jsonl")),
                         emar::testing::VectorTestName);

TEST(Tokenizer13aTest, SpecExamples) {
  EXPECT_EQ(Tok("pi is 3.14."), "pi is 3.14 .");
  EXPECT_EQ(Tok("a..1"), "a . .1");
  EXPECT_EQ(Tok("1-2"), "1 - 2");
  EXPECT_EQ(Tok("well-known"), "well-known");
  EXPECT_EQ(Tok("&amp;lt;"), "<");
  EXPECT_EQ(Tok("a<skipped>b"), "ab");
  EXPECT_EQ(Tok("co-\noperate\nnow"), "cooperate now");
  EXPECT_EQ(Tok(""), "");
  EXPECT_EQ(Tok("caf\u00e9, na\u00efve."), "caf\u00e9 , na\u00efve .");
  EXPECT_EQ(Tok("\u00e9.\u00e9"), "\u00e9 . \u00e9");
  EXPECT_EQ(Tok("x\u3000y"), "x y");  // Unicode whitespace separates
}

TEST(Tokenizer13aTest, ReusesBuffersAcrossCalls) {
  Tokenizer13a t;
  std::string out;
  t.Tokenize("Hello, world!", &out);
  EXPECT_EQ(out, "Hello , world !");
  t.Tokenize("x", &out);
  EXPECT_EQ(out, "x");
}

}  // namespace
}  // namespace emar
