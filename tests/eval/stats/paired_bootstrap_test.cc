// Tests of eval/stats/paired_bootstrap.h: interval coverage by simulation, undefined EMAR
// resamples counted, the p-value test per metric kind, pairwise Holm-Bonferroni, leaderboard
// order and determinism of the whole study.
#include "eval/stats/paired_bootstrap.h"

#include <cmath>
#include <vector>

#include "common/status_matchers.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/significance.h"
#include "gtest/gtest.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using stats_test::BinaryMeanMetric;
using stats_test::MeanMetric;
using stats_test::RatioMetric;
using ::testing::HasSubstr;

std::optional<double> RelativeGain(double t0, double t1, double, double) {
  if (std::fabs(t0) < 1e-12) return std::nullopt;
  return (t1 - t0) / t0;
}

ValidRows Rows(const Metric* metric, std::vector<absl::Span<const double>> systems) {
  DatasetRows rows;
  rows.metric = metric;
  rows.n = systems[0].size() / metric->stats_width();
  rows.systems = std::move(systems);
  return stats_test::MustValidate(std::move(rows));
}

// Paired 0/1 outcomes with P(base right) = p0 and P(candidate right) = p1, positively
// correlated as real checkpoints are: with probability `shared` both copy one coin.
std::vector<std::vector<double>> PairedBinary(size_t n, double p0, double p1, double shared,
                                              DeterministicRng& rng) {
  std::vector<std::vector<double>> out(2, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    if (rng.UniformOpen01() < shared) {
      const double u = rng.UniformOpen01();
      out[0][i] = u < p0;
      out[1][i] = u < p1;
    } else {
      out[0][i] = rng.UniformOpen01() < p0;
      out[1][i] = rng.UniformOpen01() < p1;
    }
  }
  return out;
}

bool Covers(const Interval& ci, double truth) {
  return ci.low.has_value() && *ci.low <= truth && truth <= *ci.high;
}

TEST(PairedBootstrapTest, NinetyFivePercentIntervalsCoverTheTruth) {
  // 1000 synthetic studies with known true deltas: dT = 0.75 - 0.65 = 0.10 (0/1 metric, joint
  // cells) and dB = 0.5 * (0.45 - 0.5) = -0.025 (continuous mean, per-example draws).
  BinaryMeanMetric binary;
  MeanMetric mean;
  DeterministicRng rng(2024);
  BootstrapOptions options;
  options.num_threads = 1;
  int covered_dt = 0, covered_db = 0;
  const int studies = 1000;
  for (int k = 0; k < studies; ++k) {
    auto target = PairedBinary(150, 0.65, 0.75, 0.5, rng);
    std::vector<std::vector<double>> bench(2, std::vector<double>(120));
    for (size_t i = 0; i < 120; ++i) {
      const double shared = rng.UniformOpen01();
      bench[0][i] = 0.5 * (shared + rng.UniformOpen01()) * 1.0;  // mean 0.5
      bench[1][i] = 0.5 * (shared + 0.9 * rng.UniformOpen01());  // mean 0.475
    }
    options.seed = 1000 + k;
    ASSERT_OK_AND_ASSIGN(StudyStats s, RunPairedBootstrap(Rows(&binary, {target[0], target[1]}),
                                                          Rows(&mean, {bench[0], bench[1]}),
                                                          &RelativeGain, options));
    covered_dt += Covers(s.candidates[0].dt.ci, 0.10);
    covered_db += Covers(s.candidates[0].db.ci, -0.025);
  }
  EXPECT_GE(covered_dt, 930);
  EXPECT_LE(covered_dt, 970);
  EXPECT_GE(covered_db, 930);
  EXPECT_LE(covered_db, 970);
}

TEST(PairedBootstrapTest, StandardErrorOfBinaryScoreMatchesClosedForm) {
  BinaryMeanMetric binary;
  DeterministicRng rng(5);
  auto target = PairedBinary(4000, 0.2, 0.4, 0.3, rng);
  auto bench = PairedBinary(3000, 0.7, 0.7, 0.3, rng);
  BootstrapOptions options;
  options.resamples = 4000;
  ASSERT_OK_AND_ASSIGN(StudyStats s, RunPairedBootstrap(Rows(&binary, {target[0], target[1]}),
                                                        Rows(&binary, {bench[0], bench[1]}),
                                                        &RelativeGain, options));
  const CandidateStats& c = s.candidates[0];
  for (const Estimate* e : {&c.t0, &c.t1}) {
    const double p = *e->value;
    EXPECT_NEAR(*e->ci.std_error / std::sqrt(p * (1 - p) / 4000), 1.0, 0.05);
  }
  EXPECT_NEAR(*c.b1.ci.std_error / std::sqrt(*c.b1.value * (1 - *c.b1.value) / 3000), 1.0, 0.05);
  EXPECT_EQ(s.target_method, ResamplingMethod::kJointCells);
}

TEST(PairedBootstrapTest, UndefinedEmarResamplesAreCounted) {
  // Base gets 1 of 20 target examples right: a resample that misses it has T0 = 0 and an
  // undefined relative gain. Count those resamples independently through the resampler.
  BinaryMeanMetric binary;
  std::vector<double> base(20, 0.0), cand(20, 1.0), b0(30, 1.0), b1(30, 1.0);
  base[7] = 1;
  b0[0] = 0;
  const ValidRows target = Rows(&binary, {base, cand});
  BootstrapOptions options;
  options.seed = 99;
  ASSERT_OK_AND_ASSIGN(StudyStats s,
                       RunPairedBootstrap(target, Rows(&binary, {b0, b1}), &RelativeGain, options));
  ASSERT_OK_AND_ASSIGN(BootstrapResampler resampler, BootstrapResampler::Create(target));
  ASSERT_OK_AND_ASSIGN(ResampledScores scores, resampler.Run(1000, 99, /*stream=*/0, 1));
  int64_t t0_zero = 0;
  for (int64_t r = 0; r < 1000; ++r) t0_zero += *scores.value(r, 0) == 0.0;
  const CandidateStats& c = s.candidates[0];
  EXPECT_GT(t0_zero, 250);  // (19/20)^20 = 36 %
  EXPECT_EQ(c.emar.ci.undefined_resamples, t0_zero);
  EXPECT_EQ(c.emar.ci.defined_resamples, 1000 - t0_zero);
  EXPECT_DOUBLE_EQ(*c.emar.value, 19.0);
  // Far more than 5 % undefined: no 95 % interval can be claimed; dT is fine.
  EXPECT_FALSE(c.emar.ci.low.has_value());
  EXPECT_TRUE(c.emar.ci.resample_mean.has_value());
  EXPECT_TRUE(c.dt.ci.low.has_value());
  EXPECT_EQ(c.dt.ci.undefined_resamples, 0);
}

TEST(PairedBootstrapTest, FewUndefinedResamplesKeepTheInterval) {
  std::vector<std::optional<double>> v;
  for (int i = 0; i < 97; ++i) v.push_back(i);
  for (int i = 0; i < 3; ++i) v.push_back(std::nullopt);
  Interval ci = IntervalOf(v, 0.95);
  EXPECT_EQ(ci.undefined_resamples, 3);
  EXPECT_EQ(ci.defined_resamples, 97);
  EXPECT_EQ(*ci.low, 2);    // k = floor(97 * 0.025) = 2
  EXPECT_EQ(*ci.high, 94);  // s[97 - 1 - 2]
  v.resize(94);
  for (int i = 0; i < 6; ++i) v.push_back(std::nullopt);  // 6 > floor(100 * 0.05) = 5
  EXPECT_FALSE(IntervalOf(v, 0.95).low.has_value());
}

TEST(PairedBootstrapTest, PValueTestFollowsMetricKindAndOptions) {
  BinaryMeanMetric binary;
  RatioMetric ratio;
  DeterministicRng rng(7);
  auto tb = PairedBinary(400, 0.6, 0.7, 0.5, rng);
  auto bb = PairedBinary(300, 0.8, 0.75, 0.5, rng);
  BootstrapOptions options;
  ASSERT_OK_AND_ASSIGN(
      StudyStats s, RunPairedBootstrap(Rows(&binary, {tb[0], tb[1]}), Rows(&binary, {bb[0], bb[1]}),
                                       &RelativeGain, options));
  ASSERT_OK_AND_ASSIGN(McNemarResult m, McNemarExact(tb[0], tb[1]));
  EXPECT_EQ(s.candidates[0].dt_p.test, "mcnemar_exact");
  EXPECT_EQ(*s.candidates[0].dt_p.p, m.p);
  EXPECT_EQ(s.candidates[0].db_p.test, "mcnemar_exact");

  std::vector<double> r0, r1;
  for (int i = 0; i < 500; ++i) {
    const double total = 1 + static_cast<double>(rng.UniformBelow(20));
    r0.insert(r0.end(), {std::floor(total * 0.5), total});
    r1.insert(r1.end(), {std::floor(total * 0.6), total});
  }
  const ValidRows rt = Rows(&ratio, {r0, r1});
  ASSERT_OK_AND_ASSIGN(s, RunPairedBootstrap(rt, rt, &RelativeGain, options));
  EXPECT_EQ(s.candidates[0].dt_p.test, "paired_bootstrap");
  EXPECT_EQ(s.candidates[0].dt_p.trials, 1000);
  EXPECT_LT(*s.candidates[0].dt_p.p, 0.01);  // a 10-point gain on 500 examples
  options.test = SignificanceTest::kApproximateRandomization;
  options.ar_trials = 2000;
  ASSERT_OK_AND_ASSIGN(s, RunPairedBootstrap(rt, rt, &RelativeGain, options));
  EXPECT_EQ(s.candidates[0].dt_p.test, "paired_approximate_randomization");
  EXPECT_EQ(s.candidates[0].dt_p.trials, 2000);
  EXPECT_LT(*s.candidates[0].dt_p.p, 0.01);
}

TEST(PairedBootstrapTest, PairwiseComparisonsUseHolmAndTheLeaderboardOrdersByEmar) {
  BinaryMeanMetric binary;
  DeterministicRng rng(8);
  std::vector<std::vector<double>> t(4, std::vector<double>(2000)), b(4, std::vector<double>(2000));
  const double pt[4] = {0.5, 0.55, 0.7, 0.56}, pb[4] = {0.6, 0.6, 0.6, 0.6};
  for (size_t i = 0; i < 2000; ++i) {
    for (int s = 0; s < 4; ++s) {
      t[s][i] = rng.UniformOpen01() < pt[s];
      b[s][i] = rng.UniformOpen01() < pb[s];
    }
  }
  ASSERT_OK_AND_ASSIGN(StudyStats s, RunPairedBootstrap(Rows(&binary, {t[0], t[1], t[2], t[3]}),
                                                        Rows(&binary, {b[0], b[1], b[2], b[3]}),
                                                        &RelativeGain, BootstrapOptions{}));
  ASSERT_EQ(s.candidates.size(), 3u);
  ASSERT_EQ(s.pairwise.size(), 3u);
  EXPECT_EQ(s.leaderboard, (std::vector<int>{2, 3, 1}));
  std::vector<std::optional<double>> raw;
  for (const PairwiseEmar& p : s.pairwise) raw.push_back(p.p.p);
  const std::vector<std::optional<double>> holm = HolmBonferroni(raw);
  const int want_pairs[3][2] = {{1, 2}, {1, 3}, {2, 3}};
  for (size_t i = 0; i < 3; ++i) {
    const PairwiseEmar& p = s.pairwise[i];
    EXPECT_EQ(p.a, want_pairs[i][0]);
    EXPECT_EQ(p.b, want_pairs[i][1]);
    EXPECT_DOUBLE_EQ(*p.diff.value,
                     *s.candidates[p.a - 1].emar.value - *s.candidates[p.b - 1].emar.value);
    EXPECT_EQ(p.p_holm, holm[i]);
    EXPECT_GE(*p.p_holm, *p.p.p);
  }
  // Candidate 2 (0.70) is far ahead of 1 (0.55) and 3 (0.56); 1 and 3 are close.
  EXPECT_LT(*s.pairwise[0].p_holm, 0.01);
  EXPECT_LT(*s.pairwise[2].p_holm, 0.01);
  EXPECT_GT(*s.pairwise[1].p.p, 0.05);
}

TEST(PairedBootstrapTest, LeaderboardPutsUndefinedLastAndKeepsTiesInOrder) {
  EXPECT_EQ(LeaderboardOrder({0.2, std::nullopt, 0.5, 0.2}), (std::vector<int>{3, 1, 4, 2}));
  EXPECT_EQ(LeaderboardOrder({std::nullopt, -1.0}, 0), (std::vector<int>{1, 0}));
  EXPECT_TRUE(LeaderboardOrder({}).empty());
}

std::vector<double> Flatten(const StudyStats& s) {
  std::vector<double> out;
  auto add = [&](const Estimate& e) {
    for (const std::optional<double>& v : {e.value, e.ci.low, e.ci.high, e.ci.std_error}) {
      out.push_back(v.value_or(-12345));
    }
  };
  for (const CandidateStats& c : s.candidates) {
    for (const Estimate* e : {&c.t0, &c.t1, &c.b0, &c.b1, &c.dt, &c.db, &c.emar}) add(*e);
    out.push_back(c.dt_p.p.value_or(-1));
    out.push_back(c.db_p.p.value_or(-1));
  }
  for (const PairwiseEmar& p : s.pairwise) {
    add(p.diff);
    out.push_back(p.p.p.value_or(-1));
  }
  return out;
}

TEST(PairedBootstrapTest, SameInputsAndSeedGiveIdenticalStudies) {
  RatioMetric ratio;
  DeterministicRng rng(9);
  std::vector<std::vector<double>> t(3), b(3);
  for (int i = 0; i < 20000; ++i) {
    const double total = 1 + static_cast<double>(rng.UniformBelow(30));
    for (int s = 0; s < 3; ++s) {
      t[s].insert(t[s].end(), {static_cast<double>(rng.UniformBelow(total + 1)), total});
      b[s].insert(b[s].end(), {static_cast<double>(rng.UniformBelow(total + 1)), total + 1});
    }
  }
  const ValidRows target = Rows(&ratio, {t[0], t[1], t[2]});
  const ValidRows bench = Rows(&ratio, {b[0], b[1], b[2]});
  BootstrapOptions options;
  options.resamples = 300;
  options.num_threads = 1;
  ASSERT_OK_AND_ASSIGN(StudyStats one, RunPairedBootstrap(target, bench, &RelativeGain, options));
  options.num_threads = 2;
  ASSERT_OK_AND_ASSIGN(StudyStats two, RunPairedBootstrap(target, bench, &RelativeGain, options));
  EXPECT_EQ(one.target_method, ResamplingMethod::kExampleDraws);
  EXPECT_EQ(Flatten(one), Flatten(two));
  options.seed = 54321;
  ASSERT_OK_AND_ASSIGN(StudyStats other, RunPairedBootstrap(target, bench, &RelativeGain, options));
  EXPECT_NE(Flatten(one), Flatten(other));
}

TEST(PairedBootstrapTest, RejectsBadInput) {
  BinaryMeanMetric binary;
  std::vector<double> a = {1, 0, 1}, b = {0, 1, 1};
  const ValidRows two = Rows(&binary, {a, b});
  const ValidRows one = Rows(&binary, {a});
  BootstrapOptions options;
  EXPECT_THAT(RunPairedBootstrap(two, one, &RelativeGain, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same number")));
  EXPECT_THAT(RunPairedBootstrap(one, one, &RelativeGain, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 2")));
  options.confidence = 1.0;
  EXPECT_THAT(RunPairedBootstrap(two, two, &RelativeGain, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("confidence")));
  options = BootstrapOptions{};
  options.resamples = 0;
  EXPECT_THAT(RunPairedBootstrap(two, two, &RelativeGain, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("resamples")));
  EXPECT_THAT(RunPairedBootstrap(two, two, EmarFn(), BootstrapOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("EMAR")));
}

}  // namespace
}  // namespace emar
