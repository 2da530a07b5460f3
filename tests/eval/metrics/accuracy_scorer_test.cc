#include "eval/metrics/accuracy_scorer.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;

double Score(absl::string_view pred, std::vector<std::string> refs) {
  AccuracyMetric m;
  double row[1] = {-1};
  EXPECT_OK(m.ScoreExample(Prediction{std::string(pred)}, Reference{std::move(refs)}, nullptr,
                           absl::MakeSpan(row)));
  return row[0];
}

TEST(AccuracyMetricTest, ExactEqualityAfterStrippingPythonWhitespace) {
  EXPECT_EQ(Score("positive", {"positive"}), 1);
  EXPECT_EQ(Score(" positive\n", {"\tpositive "}), 1);
  EXPECT_EQ(Score("\u00a0positive\u3000", {"positive"}), 1);  // NBSP and ideographic space
  EXPECT_EQ(Score("Positive", {"positive"}), 0);              // case matters
  EXPECT_EQ(Score("posi tive", {"positive"}), 0);             // inner whitespace matters
  EXPECT_EQ(Score("positive.", {"positive"}), 0);
}

TEST(AccuracyMetricTest, AnyReferenceCounts) {
  EXPECT_EQ(Score("b", {"a", "b", "c"}), 1);
  EXPECT_EQ(Score("d", {"a", "b", "c"}), 0);
}

TEST(AccuracyMetricTest, EmptyStrings) {
  EXPECT_EQ(Score("", {""}), 1);
  EXPECT_EQ(Score("  ", {""}), 1);
  EXPECT_EQ(Score("", {"x"}), 0);
  EXPECT_EQ(Score("x", {""}), 0);
}

TEST(AccuracyMetricTest, NoReferencesIsAnError) {
  AccuracyMetric m;
  double row[1];
  EXPECT_THAT(m.ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("references")));
}

TEST(AccuracyMetricTest, IsBinaryMeanWithWeights) {
  AccuracyMetric m;
  EXPECT_TRUE(m.is_binary());
  EXPECT_FALSE(m.uses_labels());
  EXPECT_EQ(m.direction(), Direction::kHigherIsBetter);
  ASSERT_EQ(m.stats_width(), 1u);
  // Weight 2 on the correct row equals duplicating it: (1+1+0)/3.
  std::vector<double> acc(m.AccumulatorWidth(0));
  m.Accumulate(std::vector<double>{1}, 2, 0, absl::MakeSpan(acc));
  m.Accumulate(std::vector<double>{0}, 1, 0, absl::MakeSpan(acc));
  MetricValue v = m.Finalize(acc, 0, 3);
  ASSERT_TRUE(v.value.has_value());
  EXPECT_DOUBLE_EQ(*v.value, 2.0 / 3.0);
}

TEST(AccuracyMetricTest, NoExamplesIsUndefined) {
  AccuracyMetric m;
  std::vector<double> acc(1);
  MetricValue v = m.Finalize(acc, 0, 0);
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, ::testing::HasSubstr("no examples"));
}

TEST(AccuracyMetricTest, CorpusOfLabels) {
  AccuracyMetric m;
  ASSERT_OK_AND_ASSIGN(
      MetricValue v,
      ScoreCorpus(m, emar::testing::TextPredictions({"a", "b", "c", "a"}),
                  {Reference{{"a"}}, Reference{{"c"}}, Reference{{"c"}}, Reference{{"a"}}}));
  EXPECT_DOUBLE_EQ(*v.value, 0.75);
}

}  // namespace
}  // namespace emar
