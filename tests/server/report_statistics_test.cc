// Tests of the report's power and small-sample statistics (server/report_statistics.h): the MDE
// of a 0/1 delta from McNemar's discordant pairs and of any other delta from the bootstrap
// standard error, both against the power functions' formulas written out here; Wilson and
// Newcombe intervals for small 0/1 datasets; the conservative gate bound; underpowered gates.
#include "server/report_statistics.h"

#include <cmath>
#include <memory>
#include <string>

#include "common/status_matchers.h"
#include "eval/metrics/metric_registry.h"
#include "eval/stats/wilson_interval.h"

namespace emar {
namespace {

constexpr double kZ975 = 1.959963984540054;  // Φ⁻¹(0.975)
constexpr double kZ80 = 0.8416212335729143;  // Φ⁻¹(0.8)

// Base and candidate 0/1 rows with the given joint counts, in that order.
DatasetResults Binary(int both, int only_base, int only_cand, int neither) {
  DatasetResults d;
  d.metric = *MakeMetric("accuracy");
  d.n = static_cast<size_t>(both + only_base + only_cand + neither);
  d.systems.resize(2);
  auto add = [&](int count, double b, double c) {
    for (int i = 0; i < count; ++i) {
      d.systems[0].push_back(b);
      d.systems[1].push_back(c);
    }
  };
  add(both, 1, 1);
  add(only_base, 1, 0);
  add(only_cand, 0, 1);
  add(neither, 0, 0);
  return d;
}

emar::Estimate DeltaWithSe(double se) {
  emar::Estimate e;
  e.ci.std_error = se;
  return e;
}

TEST(ReportStatisticsTest, BinaryMdeComesFromTheDiscordantPairs) {
  // 2000 items, 120 + 120 discordant: ψ = 0.12. The MDE δ solves
  // √n δ = z_a √ψ + z_b √(ψ − δ²), a quadratic: checked by plugging the answer back in.
  const DatasetResults d = Binary(1300, 120, 120, 460);
  emar::v1::DatasetComparison dc;
  AddComparisonStatistics(d, 1, DeltaWithSe(0.5), ReportStatsSettings(), &dc);
  ASSERT_TRUE(dc.has_mde());
  EXPECT_EQ(dc.mde_method(), "mcnemar");
  const double psi = 0.12, delta = dc.mde();
  EXPECT_NEAR(std::sqrt(2000.0) * delta,
              kZ975 * std::sqrt(psi) + kZ80 * std::sqrt(psi - delta * delta), 1e-9);
  EXPECT_FALSE(dc.small_sample().applies());  // 2000 items: not small
  EXPECT_EQ(dc.base_samples_per_item(), 0);
}

TEST(ReportStatisticsTest, OtherMetricsUseTheBootstrapStandardError) {
  DatasetResults d;
  d.metric = *MakeMetric("token_f1");
  d.n = 3;
  d.systems = {{0.1, 0.2, 0.3}, {0.3, 0.2, 0.1}};
  d.samples_per_item = {4, 6};
  emar::v1::DatasetComparison dc;
  ReportStatsSettings s;
  s.power = 0.8;
  s.confidence = 0.95;
  AddComparisonStatistics(d, 1, DeltaWithSe(0.01), s, &dc);
  EXPECT_EQ(dc.mde_method(), "bootstrap_se");
  EXPECT_NEAR(dc.mde(), (kZ975 + kZ80) * 0.01, 1e-12);
  EXPECT_EQ(dc.base_samples_per_item(), 4);
  EXPECT_EQ(dc.candidate_samples_per_item(), 6);
  EXPECT_FALSE(dc.small_sample().applies());  // not 0/1
}

TEST(ReportStatisticsTest, SmallBinaryDatasetsGetWilsonAndTheConservativeGateBound) {
  const DatasetResults d = Binary(30, 6, 2, 12);  // 50 items
  emar::v1::DatasetComparison dc;
  dc.mutable_delta()->set_ci_low(-0.05);  // a bootstrap bound narrower than Newcombe's
  dc.mutable_delta()->set_ci_high(0.0);
  AddComparisonStatistics(d, 1, DeltaWithSe(0.02), ReportStatsSettings(), &dc);
  ASSERT_TRUE(dc.small_sample().applies());
  ASSERT_OK_AND_ASSIGN(ProportionInterval base, WilsonInterval(36, 50, 0.95));
  EXPECT_DOUBLE_EQ(dc.small_sample().base_low(), base.low);
  EXPECT_DOUBLE_EQ(dc.small_sample().base_high(), base.high);
  EXPECT_LT(dc.small_sample().delta_low(), -0.05);
  EXPECT_THAT(dc.small_sample().warning(), ::testing::HasSubstr("50 items (fewer than 100)"));
  std::string source;
  const std::optional<double> low = GateDeltaBound(dc, /*upper=*/false, &source);
  ASSERT_TRUE(low.has_value());
  EXPECT_EQ(*low, dc.small_sample().delta_low());
  EXPECT_EQ(source, "wilson");
  // A bootstrap bound already more conservative is kept.
  dc.mutable_delta()->set_ci_low(-0.9);
  source.clear();
  EXPECT_EQ(GateDeltaBound(dc, false, &source), -0.9);
  EXPECT_EQ(source, "");
  // The threshold is configurable; 0 turns the small-sample path off.
  ReportStatsSettings off;
  off.small_dataset_items = 0;
  emar::v1::DatasetComparison plain;
  AddComparisonStatistics(d, 1, DeltaWithSe(0.02), off, &plain);
  EXPECT_FALSE(plain.small_sample().applies());
}

TEST(ReportStatisticsTest, RegressionGateBelowTheMdeIsUnderpowered) {
  emar::v1::DatasetComparison dc;
  dc.set_mde(0.031);
  emar::v1::GateResult tight, wide;
  tight.set_threshold(0.02);
  wide.set_threshold(0.05);
  MarkPower(dc, &tight);
  MarkPower(dc, &wide);
  EXPECT_TRUE(tight.underpowered());
  EXPECT_EQ(tight.mde(), 0.031);
  EXPECT_FALSE(wide.underpowered());
}

TEST(ReportStatisticsTest, SettingsDefaultWhenAStoredSpecPredatesThem) {
  emar::v1::JobSpec spec;
  spec.mutable_bootstrap()->set_confidence(0.9);
  ReportStatsSettings s = ReportStatsSettingsOf(spec);
  EXPECT_EQ(s.confidence, 0.9);
  EXPECT_EQ(s.power, 0.8);
  EXPECT_EQ(s.small_dataset_items, 100);
  spec.mutable_bootstrap()->set_power(0.9);
  spec.mutable_bootstrap()->set_small_dataset_items(0);
  s = ReportStatsSettingsOf(spec);
  EXPECT_EQ(s.power, 0.9);
  EXPECT_EQ(s.small_dataset_items, 0);
}

}  // namespace
}  // namespace emar
