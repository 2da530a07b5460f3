// Tests of eval/metrics/sample_mean_metric.h.
#include "eval/metrics/sample_mean_metric.h"

#include "common/status_matchers.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

TEST(SampleMeanMetricTest, WrapsAPerExampleMetricAsNonBinary) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> accuracy, MakeMetric("accuracy"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SampleMeanMetric> m, SampleMeanMetric::Create(*accuracy));
  EXPECT_EQ(m->name(), "accuracy");
  EXPECT_FALSE(m->is_binary());  // item means of 0/1 samples are fractions
  EXPECT_EQ(m->signature(), accuracy->signature() + "|samples:item-mean");
  double row[1];
  ASSERT_OK(m->ScoreExample({"yes"}, {{"yes"}}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 1);
  // Item rows 0.25, 1, 0.5: the corpus value is their mean.
  const double acc[1] = {1.75};
  EXPECT_NEAR(*m->Finalize(acc, 0, 3).value, 1.75 / 3, 1e-15);
}

TEST(SampleMeanMetricTest, RatioMetricsKeepTheirRatio) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> ppl, MakeMetric("perplexity"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SampleMeanMetric> m, SampleMeanMetric::Create(*ppl));
  std::vector<double> acc(ppl->stats_width(), 0.0), scaled(ppl->stats_width(), 0.0);
  std::vector<double> row(ppl->stats_width());
  ASSERT_OK(ppl->ScoreExample({"", true, {-0.5, -1.5, -0.25}}, {}, nullptr, absl::MakeSpan(row)));
  for (size_t j = 0; j < row.size(); ++j) {
    acc[j] = row[j];
    scaled[j] = row[j] / 4;  // the mean of 4 identical samples' rows, over 1/4 of the items
  }
  EXPECT_NEAR(*m->Finalize(scaled, 0, 1).value, *ppl->Finalize(acc, 0, 4).value, 1e-12);
}

TEST(SampleMeanMetricTest, RefusesLabelMetrics) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> f1, MakeMetric("macro_f1"));
  EXPECT_THAT(SampleMeanMetric::Create(*f1),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("macro_f1")));
}

}  // namespace
}  // namespace emar
