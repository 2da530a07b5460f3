// Tests of eval/stats/bootstrap_resampler.h: both methods are exact bootstraps (they agree
// with literal index resampling and with closed forms), results are deterministic whatever the
// thread count, joint cells do not depend on row order, and undefined resamples are reported.
#include "eval/stats/bootstrap_resampler.h"

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

using ::emar::testing::StatusIs;
using stats_test::BinaryMeanMetric;
using stats_test::MacroF1Metric;
using stats_test::MeanMetric;
using stats_test::RatioMetric;
using ::testing::HasSubstr;

constexpr ResamplingMethod kCells = ResamplingMethod::kJointCells;
constexpr ResamplingMethod kDraws = ResamplingMethod::kExampleDraws;

// n paired 0/1 rows: base right with probability p0, candidate with p1 (independently).
std::vector<std::vector<double>> BinarySystems(size_t n, double p0, double p1, uint64_t seed) {
  DeterministicRng rng(seed);
  std::vector<std::vector<double>> out(2, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    out[0][i] = rng.UniformOpen01() < p0 ? 1 : 0;
    out[1][i] = rng.UniformOpen01() < p1 ? 1 : 0;
  }
  return out;
}

// The spans point into the caller's vectors, which must outlive the rows.
ValidRows Rows(const Metric* metric, std::vector<absl::Span<const double>> systems,
               size_t num_labels = 0) {
  DatasetRows rows;
  rows.metric = metric;
  rows.num_labels = num_labels;
  rows.n = systems[0].size() / metric->stats_width();
  rows.systems = std::move(systems);
  return stats_test::MustValidate(std::move(rows));
}

std::vector<double> Column(const ResampledScores& s, size_t system) {
  std::vector<double> out;
  for (int64_t r = 0; r < s.resamples; ++r) out.push_back(*s.value(r, system));
  return out;
}

double StdDev(const std::vector<double>& v) {
  double mean = 0, ss = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / (v.size() - 1));
}

ResampledScores RunOrDie(const ValidRows& rows, ResamplingMethod method, int64_t resamples,
                         uint64_t seed, int threads = 1) {
  absl::StatusOr<BootstrapResampler> r = BootstrapResampler::Create(rows, method);
  EXPECT_TRUE(r.ok()) << r.status();
  absl::StatusOr<ResampledScores> s = r->Run(resamples, seed, 0, threads);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

TEST(BootstrapResamplerTest, AutoPicksCellsForBinaryAndFewLabelsDrawsOtherwise) {
  BinaryMeanMetric binary;
  MacroF1Metric f1;
  RatioMetric ratio;
  auto sys = BinarySystems(1000, 0.6, 0.7, 1);
  ASSERT_OK_AND_ASSIGN(BootstrapResampler a,
                       BootstrapResampler::Create(Rows(&binary, {sys[0], sys[1]})));
  EXPECT_EQ(a.method(), kCells);
  EXPECT_LE(a.num_cells(), 4u);
  std::vector<double> labels, totals;
  DeterministicRng rng(2);
  for (int i = 0; i < 2000; ++i) {  // 9 cells <= 2000 / 128
    labels.push_back(rng.UniformBelow(3));
    labels.push_back(rng.UniformBelow(3));
    totals.push_back(rng.UniformBelow(50));
    totals.push_back(50 + rng.UniformBelow(50));
  }
  ASSERT_OK_AND_ASSIGN(BootstrapResampler b,
                       BootstrapResampler::Create(Rows(&f1, {labels, labels}, 3)));
  EXPECT_EQ(b.method(), kCells);
  EXPECT_LE(b.num_cells(), 9u);
  ASSERT_OK_AND_ASSIGN(BootstrapResampler c,
                       BootstrapResampler::Create(Rows(&ratio, {totals, totals})));
  EXPECT_EQ(c.method(), kDraws);
  EXPECT_EQ(c.num_cells(), 0u);
}

TEST(BootstrapResamplerTest, StandardErrorOfBinaryMeanApproachesClosedForm) {
  BinaryMeanMetric binary;
  const size_t n = 10000;  // two full 4096-blocks and a partial one for kExampleDraws
  auto sys = BinarySystems(n, 0.3, 0.8, 3);
  for (ResamplingMethod method : {kCells, kDraws}) {
    SCOPED_TRACE(std::string(ResamplingMethodName(method)));
    ResampledScores s = RunOrDie(Rows(&binary, {sys[0], sys[1]}), method, 4000, 11);
    for (size_t system : {0, 1}) {
      const double p = *s.point[system];
      const double want = std::sqrt(p * (1 - p) / n);
      // The SD of 4000 resamples is within ~1.1% of the truth (1 sigma); allow 5%.
      EXPECT_NEAR(StdDev(Column(s, system)) / want, 1.0, 0.05) << system;
    }
  }
}

TEST(BootstrapResamplerTest, CellsAgreeWithLiteralIndexResampling) {
  // Index resampling as numpy would do it (n uniform indices per resample, here from our
  // generator) against the multinomial over joint-outcome cells and the blocked draws.
  BinaryMeanMetric binary;
  const size_t n = 500;
  auto sys = BinarySystems(n, 0.65, 0.75, 4);
  const ValidRows rows = Rows(&binary, {sys[0], sys[1]});
  const int64_t resamples = 4000;
  DeterministicRng rng(99);
  std::vector<std::vector<uint32_t>> indices(resamples, std::vector<uint32_t>(n));
  for (auto& idx : indices) {
    for (uint32_t& i : idx) i = static_cast<uint32_t>(rng.UniformBelow(n));
  }
  ASSERT_OK_AND_ASSIGN(ResampledScores literal, ScoresFromIndices(rows, indices));
  auto diffs = [](const ResampledScores& s) {
    std::vector<double> d;
    for (int64_t r = 0; r < s.resamples; ++r) d.push_back(*s.value(r, 1) - *s.value(r, 0));
    return d;
  };
  const PercentileBounds want_t1 = PercentileInterval(Column(literal, 1), 0.95);
  const PercentileBounds want_dt = PercentileInterval(diffs(literal), 0.95);
  for (ResamplingMethod method : {kCells, kDraws}) {
    SCOPED_TRACE(std::string(ResamplingMethodName(method)));
    ResampledScores s = RunOrDie(rows, method, resamples, 5);
    // Monte Carlo SD of each bound is ~0.001 here and the grid is 1/500 = 0.002.
    const PercentileBounds t1 = PercentileInterval(Column(s, 1), 0.95);
    const PercentileBounds dt = PercentileInterval(diffs(s), 0.95);
    EXPECT_NEAR(t1.low, want_t1.low, 0.006);
    EXPECT_NEAR(t1.high, want_t1.high, 0.006);
    EXPECT_NEAR(dt.low, want_dt.low, 0.008);
    EXPECT_NEAR(dt.high, want_dt.high, 0.008);
    EXPECT_NEAR(StdDev(diffs(s)) / StdDev(diffs(literal)), 1.0, 0.06);
  }
}

TEST(BootstrapResamplerTest, LabelMetricCellsAgreeWithPerExampleDraws) {
  MacroF1Metric f1;
  DeterministicRng rng(6);
  std::vector<double> base, cand;
  for (int i = 0; i < 3000; ++i) {
    const double gold = static_cast<double>(rng.UniformBelow(4));
    base.push_back(rng.UniformOpen01() < 0.6 ? gold : static_cast<double>(rng.UniformBelow(4)));
    base.push_back(gold);
    cand.push_back(rng.UniformOpen01() < 0.7 ? gold : static_cast<double>(rng.UniformBelow(4)));
    cand.push_back(gold);
  }
  const ValidRows rows = Rows(&f1, {base, cand}, 4);
  ResampledScores cells = RunOrDie(rows, kCells, 3000, 7);
  ResampledScores draws = RunOrDie(rows, kDraws, 3000, 7);
  EXPECT_EQ(*cells.point[1], *draws.point[1]);
  for (size_t system : {0, 1}) {
    const PercentileBounds a = PercentileInterval(Column(cells, system), 0.95);
    const PercentileBounds b = PercentileInterval(Column(draws, system), 0.95);
    EXPECT_NEAR(a.low, b.low, 0.006);
    EXPECT_NEAR(a.high, b.high, 0.006);
    EXPECT_NEAR(StdDev(Column(cells, system)) / StdDev(Column(draws, system)), 1.0, 0.07);
  }
}

TEST(BootstrapResamplerTest, ManyLabelsRunInChunksWithTheSameValues) {
  // 400 labels: a 400x400 confusion accumulator a system, so a range of resamples is drawn in
  // chunks (of ~50) to bound memory. Resample r must not depend on the chunking: the first 10
  // resamples of a 120-resample run equal a 10-resample run, on 1 thread and on 2.
  MacroF1Metric f1;
  DeterministicRng rng(11);
  std::vector<double> base, cand;
  for (int i = 0; i < 5000; ++i) {
    const double gold = static_cast<double>(rng.UniformBelow(400));
    base.push_back(rng.UniformOpen01() < 0.5 ? gold : static_cast<double>(rng.UniformBelow(400)));
    base.push_back(gold);
    cand.push_back(rng.UniformOpen01() < 0.6 ? gold : static_cast<double>(rng.UniformBelow(400)));
    cand.push_back(gold);
  }
  const ValidRows rows = Rows(&f1, {base, cand}, 400);
  const ResampledScores few = RunOrDie(rows, kDraws, 10, 5);
  for (int threads : {1, 2}) {
    const ResampledScores many = RunOrDie(rows, kDraws, 120, 5, threads);
    for (int64_t r = 0; r < few.resamples; ++r) {
      for (size_t s : {0, 1}) EXPECT_EQ(*few.value(r, s), *many.value(r, s)) << "resample " << r;
    }
  }
}

TEST(BootstrapResamplerTest, PairedSystemsShareEveryDraw) {
  // A candidate identical to the base must score identically on every resample, and a
  // candidate whose rows are twice the base's (ratio metric: same ratio) too.
  RatioMetric ratio;
  DeterministicRng rng(8);
  std::vector<double> base, twice, other;
  for (int i = 0; i < 9000; ++i) {
    const double c = static_cast<double>(rng.UniformBelow(10));
    const double t = c + static_cast<double>(rng.UniformBelow(10));
    base.insert(base.end(), {c, t});
    twice.insert(twice.end(), {2 * c, 2 * t});
    other.insert(other.end(), {static_cast<double>(rng.UniformBelow(10)), t});
  }
  for (ResamplingMethod method : {kCells, kDraws}) {
    ResampledScores s = RunOrDie(Rows(&ratio, {base, base, twice, other}), method, 200, 3);
    int differs = 0;
    for (int64_t r = 0; r < s.resamples; ++r) {
      EXPECT_EQ(*s.value(r, 0), *s.value(r, 1));
      EXPECT_EQ(*s.value(r, 0), *s.value(r, 2));
      differs += *s.value(r, 0) != *s.value(r, 3);
    }
    EXPECT_GT(differs, 190);
  }
}

TEST(BootstrapResamplerTest, IntegerAndDoubleStorageDrawTheSameRows) {
  // Integer rows use int32/int64 sums, halves of them double sums; both are exact here, so
  // every resample's mean must be exactly half.
  MeanMetric mean;
  DeterministicRng rng(10);
  std::vector<double> ints, halves;
  for (int i = 0; i < 9000; ++i) {
    const double v = static_cast<double>(rng.UniformBelow(1000));
    ints.push_back(v);
    halves.push_back(v / 2 + 0.25);
  }
  ResampledScores a = RunOrDie(Rows(&mean, {ints}), kDraws, 100, 4);
  ResampledScores b = RunOrDie(Rows(&mean, {halves}), kDraws, 100, 4);
  for (int64_t r = 0; r < 100; ++r) EXPECT_EQ(*b.value(r, 0), *a.value(r, 0) / 2 + 0.25) << r;
}

TEST(BootstrapResamplerTest, SameSeedSameBitsWhateverTheThreads) {
  RatioMetric ratio;
  BinaryMeanMetric binary;
  DeterministicRng rng(12);
  std::vector<double> r0, r1;
  for (int i = 0; i < 10000; ++i) {
    r0.insert(r0.end(), {static_cast<double>(rng.UniformBelow(5)), 5.5});
    r1.insert(r1.end(), {static_cast<double>(rng.UniformBelow(6)), 5.5});
  }
  auto bin = BinarySystems(3000, 0.5, 0.6, 13);
  for (const ValidRows& rows : {Rows(&ratio, {r0, r1}), Rows(&binary, {bin[0], bin[1]})}) {
    ResampledScores one = RunOrDie(rows, ResamplingMethod::kAuto, 301, 77, 1);
    ResampledScores three = RunOrDie(rows, ResamplingMethod::kAuto, 301, 77, 3);
    ResampledScores other_seed = RunOrDie(rows, ResamplingMethod::kAuto, 301, 78, 2);
    EXPECT_EQ(one.values, three.values);
    EXPECT_NE(one.values, other_seed.values);
  }
}

TEST(BootstrapResamplerTest, JointCellsIgnoreRowOrder) {
  MacroF1Metric f1;
  DeterministicRng rng(14);
  std::vector<std::array<double, 4>> examples;
  for (int i = 0; i < 2000; ++i) {
    examples.push_back({static_cast<double>(rng.UniformBelow(3)),
                        static_cast<double>(rng.UniformBelow(3)),
                        static_cast<double>(rng.UniformBelow(3)), 0});
  }
  auto build = [&](const std::vector<std::array<double, 4>>& ex) {
    std::vector<std::vector<double>> sys(2);
    for (const auto& e : ex) {
      sys[0].insert(sys[0].end(), {e[0], e[2]});
      sys[1].insert(sys[1].end(), {e[1], e[2]});
    }
    return sys;
  };
  auto forward = build(examples);
  std::reverse(examples.begin(), examples.end());
  std::swap(examples[3], examples[700]);
  auto shuffled = build(examples);
  ResampledScores a = RunOrDie(Rows(&f1, {forward[0], forward[1]}, 3), kCells, 200, 21);
  ResampledScores b = RunOrDie(Rows(&f1, {shuffled[0], shuffled[1]}, 3), kCells, 200, 21);
  EXPECT_EQ(a.values, b.values);
}

TEST(BootstrapResamplerTest, UndefinedResamplesAreReportedAsNullopt) {
  // One example has a non-zero total; a resample that misses it is undefined:
  // P = (9/10)^10 = 0.3487.
  RatioMetric ratio;
  std::vector<double> rows(20, 0.0);
  rows[0] = 1;
  rows[1] = 1;
  for (ResamplingMethod method : {kCells, kDraws}) {
    ResampledScores s = RunOrDie(Rows(&ratio, {rows}), method, 4000, 31);
    int undefined = 0;
    for (int64_t r = 0; r < s.resamples; ++r) {
      if (s.value(r, 0).has_value()) {
        EXPECT_EQ(*s.value(r, 0), 1.0);
      } else {
        ++undefined;
      }
    }
    EXPECT_NEAR(undefined / 4000.0, std::pow(0.9, 10), 4 * std::sqrt(0.35 * 0.65 / 4000));
  }
}

TEST(BootstrapResamplerTest, ScoresFromIndicesFollowsTheGivenPicks) {
  RatioMetric ratio;
  const std::vector<double> rows = {1, 2, 3, 4, 0, 5};
  const ValidRows data = Rows(&ratio, {rows});
  ASSERT_OK_AND_ASSIGN(ResampledScores s, ScoresFromIndices(data, {{0, 1, 2}, {1, 1}, {2, 2}}));
  EXPECT_DOUBLE_EQ(*s.point[0], 4.0 / 11.0);
  EXPECT_DOUBLE_EQ(*s.value(0, 0), 4.0 / 11.0);
  EXPECT_DOUBLE_EQ(*s.value(1, 0), 0.75);
  EXPECT_DOUBLE_EQ(*s.value(2, 0), 0.0);
  EXPECT_THAT(ScoresFromIndices(data, {{0, 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("index 3")));
  EXPECT_THAT(ScoresFromIndices(data, {{}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(BootstrapResamplerTest, RejectsBadArguments) {
  BinaryMeanMetric binary;
  const std::vector<double> rows = {1, 0, 2};
  EXPECT_THAT(ValidRows::Validate(DatasetRows{&binary, 0, 3, {rows}}, "dataset"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not 0 or 1")));
  const std::vector<double> ok = {1, 0, 1};
  ASSERT_OK_AND_ASSIGN(BootstrapResampler r, BootstrapResampler::Create(Rows(&binary, {ok})));
  EXPECT_THAT(r.Run(0, 1, 0, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("resamples")));
}

// Rows of 5-32 integer columns within int16 are drawn through a narrower layout (int16 lanes
// flushed into int64 sums); it must give the same bits as the int32 layout. Systems 0 and 1 are
// identical in both datasets; one value of 40000 in system 2 forces the int32 layout, and the
// picks depend only on (seed, n), so systems 0 and 1 must score the same on every resample.
// RatioMetric with a total column of 1 scores Σa / n, so equal values mean equal sums. The
// largest |value| sets how often the int16 lanes are flushed: never inside a block (3), every
// 327 picks (100), after every pick (32767).
TEST(BootstrapResamplerTest, NarrowIntegerRowsGiveTheSameBitsAsInt32Rows) {
  RatioMetric ratio;
  const size_t n = 10000;  // two full blocks and a partial one
  for (int64_t max_abs : {3, 100, 32767}) {
    SCOPED_TRACE(max_abs);
    DeterministicRng rng(static_cast<uint64_t>(max_abs));
    std::vector<std::vector<double>> narrow(3, std::vector<double>(2 * n, 1.0));
    for (size_t s = 0; s < 3; ++s) {
      for (size_t i = 0; i < n; ++i) {
        narrow[s][2 * i] =
            static_cast<double>(rng.UniformBelow(2 * max_abs + 1)) - static_cast<double>(max_abs);
      }
    }
    narrow[0][0] = static_cast<double>(max_abs);  // reach the bound exactly
    narrow[1][2] = -static_cast<double>(max_abs);
    std::vector<std::vector<double>> wide = narrow;
    wide[2][4] = 40000;
    ASSERT_OK_AND_ASSIGN(
        BootstrapResampler a,
        BootstrapResampler::Create(Rows(&ratio, {narrow[0], narrow[1], narrow[2]}), kDraws));
    ASSERT_OK_AND_ASSIGN(
        BootstrapResampler b,
        BootstrapResampler::Create(Rows(&ratio, {wide[0], wide[1], wide[2]}), kDraws));
    ASSERT_OK_AND_ASSIGN(ResampledScores sa, a.Run(200, 99, 0, 2));
    ASSERT_OK_AND_ASSIGN(ResampledScores sb, b.Run(200, 99, 0, 1));
    for (size_t s = 0; s < 2; ++s) {
      const std::vector<double> va = Column(sa, s), vb = Column(sb, s);
      for (size_t r = 0; r < va.size(); ++r) {
        ASSERT_EQ(va[r], vb[r]) << "system " << s << " resample " << r;
      }
    }
  }
}

}  // namespace
}  // namespace emar
