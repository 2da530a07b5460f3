// Tests of eval/stats/dataset_rows.h: validation protects the resamplers, and CorpusScores
// is each system's score on the full data.
#include "eval/stats/dataset_rows.h"

#include <vector>

#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using stats_test::BinaryMeanMetric;
using stats_test::MacroF1Metric;
using stats_test::RatioMetric;
using ::testing::HasSubstr;

TEST(DatasetRowsTest, RejectsMalformedInput) {
  BinaryMeanMetric binary;
  RatioMetric ratio;
  MacroF1Metric f1;
  const std::vector<double> ok = {1, 0, 1};
  const std::vector<double> half = {1, 0.5, 1};
  const std::vector<double> short_rows = {1, 0};
  EXPECT_THAT(ValidRows::Validate(DatasetRows{nullptr, 0, 3, {ok}}, "target"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target: no metric")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&binary, 0, 0, {}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no examples")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&binary, 0, 3, {}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no systems")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&binary, 0, 3, {ok, short_rows}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("system 1 has 2 values")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&binary, 0, 3, {half}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("example 1")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&ratio, 0, 3, {ok}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want n*stats_width")));
  const std::vector<double> labels = {0, 1, 2, 3};  // two rows of (pred, gold)
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&f1, 3, 2, {labels}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("label id 3")));
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&f1, 0, 2, {labels}}, "t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_labels is 0")));
  EXPECT_TRUE(ValidRows::Validate(DatasetRows{&f1, 4, 2, {labels}}, "t").ok());
}

TEST(DatasetRowsTest, CorpusScoresPerSystem) {
  RatioMetric ratio;
  const std::vector<double> base = {1, 2, 0, 2, 1, 1};  // 2 / 5
  const std::vector<double> cand = {2, 2, 2, 2, 0, 0};  // 4 / 4
  const std::vector<double> none = {0, 0, 0, 0, 0, 0};  // 0 / 0: undefined
  ASSERT_OK_AND_ASSIGN(const ValidRows rows,
                       ValidRows::Validate(DatasetRows{&ratio, 0, 3, {base, cand, none}}, "t"));
  const std::vector<MetricValue> s = CorpusScores(rows);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(*s[0].value, 0.4);
  EXPECT_DOUBLE_EQ(*s[1].value, 1.0);
  EXPECT_FALSE(s[2].value.has_value());
  EXPECT_FALSE(FinalizeScore(ratio, {0.0, 0.0}, 0, 1).has_value());
  EXPECT_EQ(FinalizeScore(ratio, {1.0, 4.0}, 0, 1), 0.25);
}

}  // namespace
}  // namespace emar
