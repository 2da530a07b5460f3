// Tests of eval/stats/deterministic_rng.h: the streams are pinned (a change would silently
// change every report's digits), and the draws have exactly the distributions they claim.
#include "eval/stats/deterministic_rng.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace emar {
namespace {

// Pearson chi-square of observed counts against expected probabilities (cells with expected
// count < 5 are pooled into the last bin).
double ChiSquare(const std::vector<double>& observed, const std::vector<double>& prob, double total,
                 int* dof) {
  double chi = 0, pooled_obs = 0, pooled_exp = 0;
  *dof = -1;
  for (size_t k = 0; k < prob.size(); ++k) {
    const double e = prob[k] * total;
    if (e < 5) {
      pooled_obs += observed[k];
      pooled_exp += e;
      continue;
    }
    chi += (observed[k] - e) * (observed[k] - e) / e;
    ++*dof;
  }
  if (pooled_exp > 0) {
    chi += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / pooled_exp;
    ++*dof;
  }
  return chi;
}

// A loose upper quantile (about p = 1e-5) of chi-square with `dof` degrees of freedom.
double ChiSquareLimit(int dof) { return dof + 6.0 * std::sqrt(2.0 * dof) + 10; }

TEST(SplitMix64Test, ReferenceOutput) {
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(&state), 0xe220a8397b1dcdafULL);  // Vigna's splitmix64.c, seed 0
  EXPECT_EQ(SplitMix64(&state), 0x6e789e6aa1b965f4ULL);
}

TEST(DeterministicRngTest, StreamsArePinnedAndIndependent) {
  // Pinned: these values are part of the report format's reproducibility promise.
  DeterministicRng a = DeterministicRng::ForStream(12345, {0, 7});
  DeterministicRng b = DeterministicRng::ForStream(12345, {0, 7});
  DeterministicRng c = DeterministicRng::ForStream(12345, {1, 7});
  DeterministicRng d = DeterministicRng::ForStream(12345, {7, 0});
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
    EXPECT_NE(x, d.Next());
  }
  // First xoshiro256** output for seed 42 (state = four splitmix64 outputs), from an
  // independent Python transcription of both reference algorithms.
  DeterministicRng pinned(42);
  EXPECT_EQ(pinned.Next(), 0x15780b2e0c2ec716ULL);
}

TEST(DeterministicRngTest, UniformBelowIsUniform) {
  DeterministicRng rng(1);
  for (uint64_t bound : {uint64_t{1}, uint64_t{7}, uint64_t{1000}}) {
    std::vector<double> counts(bound, 0);
    const double total = 20000.0 * static_cast<double>(bound);
    for (double t = 0; t < total; ++t) {
      const uint64_t x = rng.UniformBelow(bound);
      ASSERT_LT(x, bound);
      counts[x] += 1;
    }
    int dof = 0;
    const double chi = ChiSquare(counts, std::vector<double>(bound, 1.0 / bound), total, &dof);
    if (dof > 0) EXPECT_LT(chi, ChiSquareLimit(dof)) << bound;
  }
  EXPECT_LT(rng.UniformBelow(uint64_t{1} << 63 | 1), uint64_t{1} << 63 | 1);
}

TEST(DeterministicRngTest, UniformOpen01NeverHitsEnds) {
  DeterministicRng rng(3);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = rng.UniformOpen01();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

// Exact pmf by recurrence in long double.
std::vector<double> BinomialPmf(uint64_t n, double p) {
  std::vector<double> pmf(n + 1);
  for (uint64_t k = 0; k <= n; ++k) {
    pmf[k] = std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                      k * std::log(p) + (n - k) * std::log1p(-p));
  }
  return pmf;
}

TEST(DeterministicRngTest, BinomialHasExactDistribution) {
  // Inversion (n p < 10), BTRS (n p >= 10), p > 1/2 through symmetry, and the BTRS edge.
  struct Case {
    uint64_t n;
    double p;
  };
  for (Case c : {Case{20, 0.3}, Case{1000, 0.004}, Case{1000, 0.2}, Case{1000, 0.9}, Case{50, 0.5},
                 Case{25, 0.4}}) {
    DeterministicRng rng(c.n * 1000 + static_cast<uint64_t>(c.p * 1000));
    std::vector<double> counts(c.n + 1, 0);
    const double draws = 200000;
    for (double t = 0; t < draws; ++t) {
      const uint64_t k = rng.Binomial(c.n, c.p);
      ASSERT_LE(k, c.n);
      counts[k] += 1;
    }
    int dof = 0;
    const double chi = ChiSquare(counts, BinomialPmf(c.n, c.p), draws, &dof);
    EXPECT_LT(chi, ChiSquareLimit(dof)) << "n=" << c.n << " p=" << c.p << " dof=" << dof;
  }
}

TEST(DeterministicRngTest, BinomialEdgesAndLargeN) {
  DeterministicRng rng(5);
  EXPECT_EQ(rng.Binomial(0, 0.5), 0u);
  EXPECT_EQ(rng.Binomial(10, 0.0), 0u);
  EXPECT_EQ(rng.Binomial(10, 1.0), 10u);
  double sum = 0, sum_sq = 0;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const double k = static_cast<double>(rng.Binomial(1000000, 0.3));
    sum += k;
    sum_sq += k * k;
  }
  const double mean = sum / draws;
  const double var = sum_sq / draws - mean * mean;
  EXPECT_NEAR(mean, 300000, 5 * std::sqrt(210000.0 / draws));
  EXPECT_NEAR(var / 210000.0, 1.0, 0.05);
}

TEST(DeterministicRngTest, MultinomialSumsToNAndHasTheRightMeans) {
  DeterministicRng rng(9);
  const std::vector<uint64_t> weights = {10, 0, 30, 60, 1};
  std::vector<uint64_t> out(weights.size());
  std::vector<double> mean(weights.size(), 0);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    rng.Multinomial(1000, weights, absl::MakeSpan(out));
    uint64_t total = 0;
    for (size_t j = 0; j < out.size(); ++j) {
      total += out[j];
      mean[j] += static_cast<double>(out[j]) / draws;
    }
    ASSERT_EQ(total, 1000u);
    ASSERT_EQ(out[1], 0u);
  }
  for (size_t j = 0; j < weights.size(); ++j) {
    const double p = weights[j] / 101.0;
    EXPECT_NEAR(mean[j], 1000 * p, 5 * std::sqrt(1000 * p * (1 - p) / draws) + 1e-12) << j;
  }
}

}  // namespace
}  // namespace emar
