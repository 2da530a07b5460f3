// Tests of eval/stats/wilson_interval.h: the closed form recomputed independently (from the
// score test's quadratic), known values, and the small-dataset bound choice. The comparison with
// statsmodels' proportion_confint(method="wilson") is in stats_reference_test.
#include "eval/stats/wilson_interval.h"

#include <cmath>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// The Wilson interval is the set of p with (p̂ − p)² <= z² p (1 − p) / n: the roots of
// (1 + z²/n) p² − (2p̂ + z²/n) p + p̂² = 0.
ProportionInterval QuadraticRoots(double successes, double n, double z) {
  const double ph = successes / n;
  const double a = 1 + z * z / n, b = -(2 * ph + z * z / n), c = ph * ph;
  const double disc = std::sqrt(b * b - 4 * a * c);
  return {(-b - disc) / (2 * a), (-b + disc) / (2 * a)};
}

TEST(WilsonIntervalTest, MatchesTheScoreTestQuadratic) {
  const double z95 = 1.959963984540054;
  for (int n : {1, 5, 20, 99, 1000}) {
    for (int s = 0; s <= n; s += (n > 20 ? n / 10 : 1)) {
      ASSERT_OK_AND_ASSIGN(ProportionInterval w, WilsonInterval(s, n, 0.95));
      const ProportionInterval q = QuadraticRoots(s, n, z95);
      EXPECT_NEAR(w.low, std::max(0.0, q.low), 1e-12) << s << "/" << n;
      EXPECT_NEAR(w.high, std::min(1.0, q.high), 1e-12) << s << "/" << n;
    }
  }
}

TEST(WilsonIntervalTest, KnownValues) {
  // statsmodels 0.13.5: proportion_confint(42, 50, 0.05, "wilson")
  ASSERT_OK_AND_ASSIGN(ProportionInterval w, WilsonInterval(42, 50, 0.95));
  EXPECT_NEAR(w.low, 0.7148578393696499, 1e-13);
  EXPECT_NEAR(w.high, 0.9166257932196658, 1e-13);
  // All right: the upper bound is 1, the lower n / (n + z²).
  ASSERT_OK_AND_ASSIGN(ProportionInterval all, WilsonInterval(30, 30, 0.95));
  EXPECT_EQ(all.high, 1.0);
  EXPECT_NEAR(all.low, 30 / (30 + 1.959963984540054 * 1.959963984540054), 1e-12);
}

TEST(WilsonIntervalTest, RefusesBadArguments) {
  EXPECT_THAT(WilsonInterval(3, 0, 0.95), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WilsonInterval(6, 5, 0.95), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WilsonInterval(-1, 5, 0.95), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(WilsonInterval(2, 5, 1.0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("confidence")));
}

TEST(WilsonIntervalTest, SmallDatasetsTakeTheMoreConservativeBound) {
  const ProportionInterval w{0.70, 0.95};
  // 50 of 50 right: the bootstrap says [1, 1]; Wilson's 0.93 is what a gate should see.
  EXPECT_EQ(SmallSampleLowerBound(1.0, {0.93, 1.0}, 50), 0.93);
  EXPECT_EQ(SmallSampleLowerBound(0.75, w, 50), 0.70);
  EXPECT_EQ(SmallSampleLowerBound(0.65, w, 50), 0.65);        // the bootstrap is already lower
  EXPECT_EQ(SmallSampleLowerBound(0.75, w, 100), 0.75);       // not small: the bootstrap's
  EXPECT_EQ(SmallSampleLowerBound(0.75, w, 150, 200), 0.70);  // the threshold is an option
  EXPECT_EQ(SmallSampleLowerBound(std::nullopt, w, 50), std::nullopt);
  EXPECT_EQ(SmallSampleUpperBound(0.90, w, 50), 0.95);
  EXPECT_EQ(SmallSampleUpperBound(0.97, w, 50), 0.97);
  EXPECT_EQ(SmallSampleUpperBound(0.90, w, 500), 0.90);
}

}  // namespace
}  // namespace emar
