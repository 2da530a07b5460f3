// Tests of eval/stats/suite_bootstrap.h: a suite of one is RunPairedBootstrap to the last bit,
// aggregates are weighted means on the full data and on every resample, each dataset is drawn
// from its own stream (stratified), and Holm's correction over the benchmarks' p-values matches
// a hand computation.
#include "eval/stats/suite_bootstrap.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/status_matchers.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/significance.h"
#include "gtest/gtest.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar {
namespace {

using stats_test::BinaryMeanMetric;
using stats_test::MeanMetric;

ValidRows Rows(const Metric* metric, const std::vector<std::vector<double>>& systems) {
  DatasetRows rows;
  rows.metric = metric;
  rows.n = systems[0].size() / metric->stats_width();
  for (const auto& s : systems) rows.systems.push_back(absl::MakeConstSpan(s));
  return stats_test::MustValidate(std::move(rows));
}

// Three systems (base, two candidates) of n rows: 0/1 with accuracy p[s], or uniform means.
std::vector<std::vector<double>> Systems(size_t n, std::vector<double> p, bool binary,
                                         uint64_t seed) {
  DeterministicRng rng(seed);
  std::vector<std::vector<double>> out(p.size(), std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    const double shared = rng.UniformOpen01();
    for (size_t s = 0; s < p.size(); ++s) {
      const double u = rng.UniformOpen01() < 0.6 ? shared : rng.UniformOpen01();
      out[s][i] = binary ? (u < p[s] ? 1 : 0) : p[s] * u;
    }
  }
  return out;
}

std::optional<double> RelativeGain(double t0, double t1, double, double) {
  if (std::fabs(t0) < 1e-12) return std::nullopt;
  return (t1 - t0) / t0;
}

SuiteEmarFn SuiteRelativeGain() {
  return [](const SuiteScores& s) { return RelativeGain(s.t0, s.t1, s.b0, s.b1); };
}

void ExpectSameEstimate(const Estimate& a, const Estimate& b) {
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.ci.low, b.ci.low);
  EXPECT_EQ(a.ci.high, b.ci.high);
  EXPECT_EQ(a.ci.undefined_resamples, b.ci.undefined_resamples);
}

TEST(SuiteBootstrapTest, ASuiteOfOneIsThePairedBootstrapToTheLastBit) {
  BinaryMeanMetric binary;
  MeanMetric mean;
  const auto t = Systems(400, {0.6, 0.7, 0.65}, true, 1);
  const auto b = Systems(300, {0.5, 0.45, 0.55}, false, 2);
  const ValidRows target = Rows(&binary, t), bench = Rows(&mean, b);
  for (SignificanceTest test :
       {SignificanceTest::kPairedBootstrap, SignificanceTest::kApproximateRandomization}) {
    BootstrapOptions options;
    options.resamples = 300;
    options.test = test;
    options.ar_trials = 200;
    ASSERT_OK_AND_ASSIGN(StudyStats want,
                         RunPairedBootstrap(target, bench, &RelativeGain, options));
    ASSERT_OK_AND_ASSIGN(SuiteStats got,
                         RunSuiteBootstrap({{true, 1, {&target}}, {false, 1, {&bench}}},
                                           SuiteRelativeGain(), options));
    ASSERT_EQ(got.study.candidates.size(), 2u);
    for (size_t c = 0; c < 2; ++c) {
      const CandidateStats& w = want.candidates[c];
      const CandidateStats& g = got.study.candidates[c];
      for (auto [x, y] : {std::pair{&w.t0, &g.t0},
                          {&w.t1, &g.t1},
                          {&w.b0, &g.b0},
                          {&w.b1, &g.b1},
                          {&w.dt, &g.dt},
                          {&w.db, &g.db},
                          {&w.emar, &g.emar}}) {
        ExpectSameEstimate(*x, *y);
      }
      EXPECT_EQ(w.dt_p.p, g.dt_p.p);
      EXPECT_EQ(w.dt_p.test, g.dt_p.test);
      EXPECT_EQ(w.db_p.p, g.db_p.p);
      EXPECT_EQ(w.db_p.test, g.db_p.test);
      // The per-dataset entries are the same numbers.
      ExpectSameEstimate(got.datasets[1].metrics[0][c].delta, w.db);
      EXPECT_EQ(got.datasets[1].metrics[0][c].p.p, w.db_p.p);
    }
    ASSERT_EQ(got.study.pairwise.size(), 1u);
    EXPECT_EQ(got.study.pairwise[0].p.p, want.pairwise[0].p.p);
    EXPECT_EQ(got.study.leaderboard, want.leaderboard);
  }
}

TEST(SuiteBootstrapTest, AggregatesAreWeightedMeansOfPrimaryScoresOnEveryResample) {
  MeanMetric mean;
  BinaryMeanMetric binary;
  const auto t = Systems(200, {0.6, 0.8, 0.7}, false, 3);
  const auto b1 = Systems(250, {0.7, 0.6, 0.72}, true, 4);
  const auto b2 = Systems(150, {0.4, 0.5, 0.3}, false, 5);
  const ValidRows target = Rows(&mean, t), bench1 = Rows(&binary, b1), bench2 = Rows(&mean, b2);
  BootstrapOptions options;
  options.resamples = 200;
  std::vector<std::optional<double>> seen_b0;
  SuiteEmarFn emar = [&](const SuiteScores& s) -> std::optional<double> {
    // EMAR sees the aggregates and every dataset's own primary score.
    EXPECT_EQ(s.base.size(), 3u);
    EXPECT_DOUBLE_EQ(s.b0, (1 * s.base[1] + 3 * s.base[2]) / 4);
    EXPECT_EQ(s.t0, s.base[0]);
    return s.t1 - s.t0 + s.b1 - s.b0;
  };
  ASSERT_OK_AND_ASSIGN(
      SuiteStats got,
      RunSuiteBootstrap({{true, 1, {&target}}, {false, 1, {&bench1}}, {false, 3, {&bench2}}}, emar,
                        options));
  const std::vector<MetricValue> s1 = CorpusScores(bench1), s2 = CorpusScores(bench2);
  for (size_t c = 0; c < 2; ++c) {
    const CandidateStats& st = got.study.candidates[c];
    EXPECT_DOUBLE_EQ(*st.b0.value, (*s1[0].value + 3 * *s2[0].value) / 4);
    EXPECT_DOUBLE_EQ(*st.b1.value, (*s1[c + 1].value + 3 * *s2[c + 1].value) / 4);
    // Several benchmarks: the aggregate delta's p-value is the aggregate's paired bootstrap.
    EXPECT_EQ(st.db_p.test, "paired_bootstrap");
    EXPECT_EQ(got.datasets[1].metrics[0][c].p.test, "mcnemar_exact");
  }
  // Interval of the aggregate from the weighted means of the datasets' own resamples.
  ASSERT_OK_AND_ASSIGN(BootstrapResampler r1, BootstrapResampler::Create(bench1));
  ASSERT_OK_AND_ASSIGN(BootstrapResampler r2, BootstrapResampler::Create(bench2));
  ASSERT_OK_AND_ASSIGN(ResampledScores x1, r1.Run(200, options.seed, SuiteResampleStream(1), 1));
  ASSERT_OK_AND_ASSIGN(ResampledScores x2, r2.Run(200, options.seed, SuiteResampleStream(2), 1));
  std::vector<std::optional<double>> b0(200);
  for (int64_t r = 0; r < 200; ++r) b0[r] = (1 * *x1.value(r, 0) + 3 * *x2.value(r, 0)) / 4;
  const Interval want = IntervalOf(b0, options.confidence);
  EXPECT_EQ(got.study.candidates[0].b0.ci.low, want.low);
  EXPECT_EQ(got.study.candidates[0].b0.ci.high, want.high);
  // Each dataset's own interval is its own stream's.
  std::vector<std::optional<double>> own(200);
  for (int64_t r = 0; r < 200; ++r) own[r] = x2.value(r, 0);
  EXPECT_EQ(got.datasets[2].metrics[0][0].base.ci.low, IntervalOf(own, 0.95).low);
}

TEST(SuiteBootstrapTest, StreamsAreDistinctAndTheFirstTwoAreThePairedBootstraps) {
  EXPECT_EQ(SuiteResampleStream(0), 0u);
  EXPECT_EQ(SuiteResampleStream(1), 1u);
  EXPECT_EQ(SuiteTestStream(1, 0, 0), 2u);
  EXPECT_EQ(SuiteTestStream(1, 1, 0), 3u);
  EXPECT_EQ(SuiteTestStream(3, 1, 0), 7u);
  std::vector<uint64_t> all;
  for (size_t k = 0; k < 20; ++k) all.push_back(SuiteResampleStream(k));
  for (int c = 1; c <= 5; ++c) {
    for (size_t k = 0; k < 20; ++k) {
      for (size_t m = 0; m < 4; ++m) all.push_back(SuiteTestStream(c, k, m));
    }
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(SuiteBootstrapTest, HolmOverTheBenchmarksMatchesAHandComputation) {
  BinaryMeanMetric binary;
  const auto t = Systems(300, {0.6, 0.7, 0.7}, true, 6);
  // Four benchmarks whose candidates drift by different amounts: different McNemar p-values.
  std::vector<std::vector<std::vector<double>>> b = {
      Systems(400, {0.70, 0.62, 0.70}, true, 7), Systems(400, {0.70, 0.69, 0.71}, true, 8),
      Systems(400, {0.70, 0.66, 0.60}, true, 9), Systems(400, {0.70, 0.70, 0.69}, true, 10)};
  const ValidRows target = Rows(&binary, t);
  std::vector<ValidRows> bench;
  for (const auto& x : b) bench.push_back(Rows(&binary, x));
  std::vector<SuiteDatasetRows> rows = {{true, 1, {&target}}};
  for (const ValidRows& v : bench) rows.push_back({false, 1, {&v}});
  BootstrapOptions options;
  options.resamples = 100;
  ASSERT_OK_AND_ASSIGN(SuiteStats got, RunSuiteBootstrap(rows, SuiteRelativeGain(), options));
  for (size_t c = 0; c < 2; ++c) {
    // Raw p: McNemar's exact test of each benchmark, computed here on its own.
    std::vector<std::pair<double, size_t>> p;
    for (size_t k = 0; k < 4; ++k) {
      ASSERT_OK_AND_ASSIGN(McNemarResult m, McNemarExact(b[k][0], b[k][c + 1]));
      EXPECT_EQ(got.datasets[k + 1].metrics[0][c].p.p, std::optional<double>(m.p));
      p.push_back({m.p, k});
    }
    // Holm: sort ascending, multiply the i-th smallest (0-based) by m - i, running maximum,
    // capped at 1.
    std::sort(p.begin(), p.end());
    double running = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      running = std::max(running, std::min(1.0, (4.0 - i) * p[i].first));
      const std::optional<double>& holm = got.datasets[p[i].second + 1].metrics[0][c].p_holm;
      ASSERT_TRUE(holm.has_value());
      EXPECT_DOUBLE_EQ(*holm, running) << "candidate " << c + 1 << " benchmark " << p[i].second;
    }
    EXPECT_FALSE(got.datasets[0].metrics[0][c].p_holm.has_value());  // targets: no correction
  }
}

// The (dataset, metric) pairs are resampled several at once: any number of threads gives the
// same statistics, to the last bit (each pair draws from its own streams).
TEST(SuiteBootstrapTest, TheThreadCountChangesNothing) {
  BinaryMeanMetric binary;
  MeanMetric mean;
  const auto t = Systems(300, {0.6, 0.7, 0.65}, true, 21);
  const auto b1 = Systems(400, {0.7, 0.66, 0.7}, true, 22);
  const auto b1_mean = Systems(400, {0.5, 0.45, 0.55}, false, 23);
  const auto b2 = Systems(250, {0.4, 0.42, 0.38}, false, 24);
  const ValidRows target = Rows(&binary, t), bench1 = Rows(&binary, b1),
                  bench1_mean = Rows(&mean, b1_mean), bench2 = Rows(&mean, b2);
  const std::vector<SuiteDatasetRows> rows = {
      {true, 1, {&target}}, {false, 2, {&bench1, &bench1_mean}}, {false, 1, {&bench2}}};
  BootstrapOptions options;
  options.resamples = 200;
  options.num_threads = 1;
  ASSERT_OK_AND_ASSIGN(const SuiteStats one, RunSuiteBootstrap(rows, SuiteRelativeGain(), options));
  for (int threads : {2, 3, 8}) {
    SCOPED_TRACE(threads);
    options.num_threads = threads;
    ASSERT_OK_AND_ASSIGN(const SuiteStats got,
                         RunSuiteBootstrap(rows, SuiteRelativeGain(), options));
    ASSERT_EQ(got.datasets.size(), one.datasets.size());
    for (size_t k = 0; k < one.datasets.size(); ++k) {
      ASSERT_EQ(got.datasets[k].metrics.size(), one.datasets[k].metrics.size());
      EXPECT_EQ(got.datasets[k].methods, one.datasets[k].methods);
      for (size_t m = 0; m < one.datasets[k].metrics.size(); ++m) {
        for (size_t c = 0; c < 2; ++c) {
          const MetricComparison& a = one.datasets[k].metrics[m][c];
          const MetricComparison& b = got.datasets[k].metrics[m][c];
          ExpectSameEstimate(a.base, b.base);
          ExpectSameEstimate(a.candidate, b.candidate);
          ExpectSameEstimate(a.delta, b.delta);
          EXPECT_EQ(a.p.p, b.p.p);
          EXPECT_EQ(a.p.test, b.p.test);
          EXPECT_EQ(a.p_holm, b.p_holm);
        }
      }
    }
    for (size_t c = 0; c < 2; ++c) {
      ExpectSameEstimate(got.study.candidates[c].emar, one.study.candidates[c].emar);
      ExpectSameEstimate(got.study.candidates[c].db, one.study.candidates[c].db);
      EXPECT_EQ(got.study.candidates[c].db_p.p, one.study.candidates[c].db_p.p);
    }
  }
}

TEST(SuiteBootstrapTest, RejectsSuitesWithoutBothSidesOrWithBadWeights) {
  MeanMetric mean;
  const auto t = Systems(50, {0.5, 0.6}, false, 11);
  const ValidRows rows = Rows(&mean, t);
  EXPECT_FALSE(RunSuiteBootstrap({{true, 1, {&rows}}}, SuiteRelativeGain(), {}).ok());
  EXPECT_FALSE(
      RunSuiteBootstrap({{true, 1, {&rows}}, {false, 0, {&rows}}}, SuiteRelativeGain(), {}).ok());
  EXPECT_FALSE(
      RunSuiteBootstrap({{true, 1, {&rows}}, {false, 1, {}}}, SuiteRelativeGain(), {}).ok());
}

}  // namespace
}  // namespace emar
