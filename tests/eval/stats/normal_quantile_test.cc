// Tests of eval/stats/normal_quantile.h against published quantiles (17 significant digits, as
// scipy.stats.norm.ppf prints them; the cross-check against scipy over a grid is in
// stats_reference_test).
#include "eval/stats/normal_quantile.h"

#include <cmath>

#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(NormalQuantileTest, MatchesKnownQuantiles) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.95), 1.6448536269514722, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.8), 0.8416212335729143, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-16);
  EXPECT_NEAR(NormalQuantile(0.025), -1.959963984540054, 1e-15);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-13);  // the far-tail branch
  EXPECT_NEAR(NormalQuantile(0.999), 3.090232306167813, 1e-14);
}

TEST(NormalQuantileTest, IsAntisymmetricAndMonotone) {
  double last = -INFINITY;
  for (int i = 1; i < 1000; ++i) {
    const double p = i / 1000.0;
    const double z = NormalQuantile(p);
    EXPECT_GT(z, last) << p;
    EXPECT_NEAR(z, -NormalQuantile(1 - p), 1e-12) << p;
    last = z;
  }
}

TEST(NormalQuantileTest, EdgesAndInvalidInput) {
  EXPECT_EQ(NormalQuantile(0), -INFINITY);
  EXPECT_EQ(NormalQuantile(1), INFINITY);
  EXPECT_TRUE(std::isnan(NormalQuantile(-0.1)));
  EXPECT_TRUE(std::isnan(NormalQuantile(1.5)));
  EXPECT_TRUE(std::isnan(NormalQuantile(NAN)));
}

}  // namespace
}  // namespace emar
