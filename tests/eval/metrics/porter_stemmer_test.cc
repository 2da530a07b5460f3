#include "eval/metrics/porter_stemmer.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonStrings;
using ::emar::testing::VectorLine;

// testdata/metrics/porter.jsonl: NLTK 3.8's PorterStemmer() on words that exercise every rule.
class PorterVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PorterVectorTest, MatchesNltk) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const std::vector<std::string> words = JsonStrings((*v)["words"]);
  const std::vector<std::string> stems = JsonStrings((*v)["stems"]);
  ASSERT_EQ(words.size(), stems.size());
  ASSERT_GT(words.size(), 300u);
  for (size_t i = 0; i < words.size(); ++i) EXPECT_EQ(PorterStem(words[i]), stems[i]) << words[i];
}

INSTANTIATE_TEST_SUITE_P(Vectors, PorterVectorTest,
                         ::testing::ValuesIn(testing::VectorLines("porter.jsonl")),
                         testing::VectorTestName);

TEST(PorterStemTest, NltkExtensions) {
  EXPECT_EQ(PorterStem("running"), "run");
  EXPECT_EQ(PorterStem("dying"), "die");  // irregular form
  EXPECT_EQ(PorterStem("dies"), "die");   // "ies" on a four-letter word
  EXPECT_EQ(PorterStem("flies"), "fli");
  EXPECT_EQ(PorterStem("generalizations"), "gener");
  EXPECT_EQ(PorterStem("happy"), "happi");
  EXPECT_EQ(PorterStem("enjoy"), "enjoy");
  EXPECT_EQ(PorterStem("is"), "is");  // two letters: unchanged
}

}  // namespace
}  // namespace emar
