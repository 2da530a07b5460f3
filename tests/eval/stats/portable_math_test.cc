// Tests of eval/stats/portable_math.h against <cmath> (which may differ from ours in the last
// bit; that is why we have our own) and against known values.
#include "eval/stats/portable_math.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace emar {
namespace {

double Ulps(double got, double want) {
  if (got == want) return 0;
  return std::fabs(got - want) / std::fabs(std::nextafter(want, 2 * want + 1) - want);
}

TEST(PortableMathTest, LogWithinTwoUlpsOfLibm) {
  const double xs[] = {1e-310,    1e-300, 1e-20, 0.001, 0.1,  0.5,       0.7071, 0.99999, 1.0,
                       1.0000001, 1.5,    2.0,   3.0,   10.0, 12345.678, 1e100,  1.7e308};
  for (double x : xs) EXPECT_LE(Ulps(PortableLog(x), std::log(x)), 2) << x;
  for (int i = 1; i < 20000; ++i) {
    const double x = i * 0.00137;
    EXPECT_LE(Ulps(PortableLog(x), std::log(x)), 2) << x;
  }
  EXPECT_EQ(PortableLog(1.0), 0.0);
  EXPECT_EQ(PortableLog(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(PortableLog(-1.0)));
}

TEST(PortableMathTest, Log1pAccurateForTinyArguments) {
  for (double x : {-0.5, -0.2, -1e-3, -1e-9, -1e-17, 1e-17, 1e-9, 1e-3, 0.2, 3.0}) {
    EXPECT_LE(Ulps(PortableLog1p(x), std::log1p(x)), 2) << x;
  }
  EXPECT_EQ(PortableLog1p(-1.0), -std::numeric_limits<double>::infinity());
}

TEST(PortableMathTest, ExpWithinTwoUlpsOfLibm) {
  for (int i = -7000; i <= 7000; ++i) {
    const double x = i * 0.1013;
    EXPECT_LE(Ulps(PortableExp(x), std::exp(x)), 2) << x;
  }
  EXPECT_EQ(PortableExp(0.0), 1.0);
  EXPECT_EQ(PortableExp(800.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(PortableExp(-800.0), 0.0);
  EXPECT_GT(PortableExp(-740.0), 0.0);  // subnormal result
}

TEST(PortableMathTest, LogFactorialMatchesLgamma) {
  for (double k : {0.0, 1.0, 2.0, 5.0, 9.0, 10.0, 11.0, 30.0, 100.0, 1000.0, 123456.0, 1e6}) {
    const double want = std::lgamma(k + 1);
    EXPECT_NEAR(LogFactorial(k), want, 1e-13 * std::max(1.0, want)) << k;
  }
}

}  // namespace
}  // namespace emar
