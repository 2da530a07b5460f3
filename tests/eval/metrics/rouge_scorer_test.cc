#include "eval/metrics/rouge_scorer.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonNumber;
using ::emar::testing::JsonNumbers;
using ::emar::testing::JsonStrings;
using ::emar::testing::ReferenceLists;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::TextPredictions;
using ::emar::testing::VectorLine;
using ::testing::ElementsAreArray;

// Every line of rouge.jsonl: tokens, per-example P/R/F and the mean F of each type.
class RougeVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RougeVectorTest, MatchesRougeScore) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const std::vector<std::string> preds = JsonStrings((*v)["predictions"]);
  const std::vector<Reference> refs = ReferenceLists((*v)["references"]);
  ASSERT_EQ(preds.size(), refs.size());
  const simdjson::dom::element expected = (*v)["expected"];
  const double tol = v->relative_tolerance();
  size_t i = 0;
  for (simdjson::dom::element tokens : expected["prediction_tokens"].get_array()) {
    EXPECT_THAT(RougeTokens(preds[i]), ElementsAreArray(JsonStrings(tokens))) << preds[i];
    ++i;
  }
  i = 0;
  for (simdjson::dom::element per_ref : expected["reference_tokens"].get_array()) {
    size_t r = 0;
    for (simdjson::dom::element tokens : per_ref.get_array()) {
      EXPECT_THAT(RougeTokens(refs[i].texts[r]), ElementsAreArray(JsonStrings(tokens)));
      ++r;
    }
    ++i;
  }
  for (const auto& [type, key] :
       std::vector<std::pair<RougeType, const char*>>{{RougeType::kRouge1, "rouge1"},
                                                      {RougeType::kRouge2, "rouge2"},
                                                      {RougeType::kRougeL, "rougeL"}}) {
    SCOPED_TRACE(key);
    const std::vector<double> p = JsonNumbers(expected[key]["precision"]);
    const std::vector<double> r = JsonNumbers(expected[key]["recall"]);
    const std::vector<double> f = JsonNumbers(expected[key]["fmeasure"]);
    ASSERT_EQ(p.size(), preds.size());
    for (size_t k = 0; k < preds.size(); ++k) {
      const RougeScore s = ScoreRouge(type, preds[k], refs[k].texts);
      EXPECT_CLOSE(s.precision, p[k], tol) << "example " << k;
      EXPECT_CLOSE(s.recall, r[k], tol) << "example " << k;
      EXPECT_CLOSE(s.fmeasure, f[k], tol) << "example " << k;
    }
    ASSERT_OK_AND_ASSIGN(MetricValue value,
                         ScoreCorpus(RougeMetric(type), TextPredictions(preds), refs));
    ASSERT_TRUE(value.value.has_value());
    EXPECT_CLOSE(*value.value, JsonNumber(expected[key]["mean_fmeasure"]), tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Rouge, RougeVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("rouge.jsonl")),
                         emar::testing::VectorTestName);

TEST(RougeTokensTest, AsciiOnlyTokens) {
  EXPECT_THAT(RougeTokens("Caf\u00e9 STRA\u00dfE 3.5x"),
              ElementsAreArray({"caf", "stra", "e", "3", "5x"}));
  EXPECT_THAT(RougeTokens("\u0130stanbul \u212Aelvin"),
              ElementsAreArray({"i", "stanbul", "kelvin"}));
  EXPECT_TRUE(RougeTokens("\u4e2d\u6587 \U0001F600 !!").empty());
}

TEST(RougeScoreTest, EmptySidesAndLcs) {
  EXPECT_EQ(ScoreRouge(RougeType::kRougeL, "", std::vector<std::string>{"a b"}).fmeasure, 0);
  EXPECT_EQ(ScoreRouge(RougeType::kRouge1, "a b", std::vector<std::string>{""}).fmeasure, 0);
  // LCS("a x b y c", "a b c") = 3: P = 3/5, R = 1.
  const RougeScore l =
      ScoreRouge(RougeType::kRougeL, "a x b y c", std::vector<std::string>{"a b c"});
  EXPECT_DOUBLE_EQ(l.precision, 0.6);
  EXPECT_DOUBLE_EQ(l.recall, 1.0);
  EXPECT_DOUBLE_EQ(l.fmeasure, 0.75);
}

TEST(RougeScoreTest, FirstBestReferenceKeepsItsPrecisionAndRecall) {
  // Both targets give F = 2/3 for "a b": the first one's P/R are reported.
  const RougeScore s =
      ScoreRouge(RougeType::kRouge1, "a b", std::vector<std::string>{"a", "a b c d"});
  EXPECT_DOUBLE_EQ(s.fmeasure, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
}

TEST(RougeMetricTest, NamesAndErrors) {
  EXPECT_EQ(RougeMetric(RougeType::kRouge1).name(), "rouge1");
  EXPECT_EQ(RougeMetric(RougeType::kRouge2).name(), "rouge2");
  EXPECT_EQ(RougeMetric(RougeType::kRougeL).name(), "rougeL");
  EXPECT_THAT(RougeMetric(RougeType::kRougeL).signature(), ::testing::StartsWith("rougeL|"));
  double row[1];
  EXPECT_FALSE(RougeMetric(RougeType::kRouge1)
                   .ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row))
                   .ok());
}

}  // namespace
}  // namespace emar
