// Tests of eval/metrics/pass_at_k.h: the estimator against a brute-force enumeration of every
// k-subset of the n samples, the per-sample scoring rules and the options.
#include "eval/metrics/pass_at_k.h"

#include <cstdint>
#include <vector>

#include "common/status_matchers.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// The share of the C(n, k) k-subsets of n samples (the first c right) holding a right one.
double BruteForcePassAtK(int n, int c, int k) {
  int64_t subsets = 0, passing = 0;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != k) continue;
    ++subsets;
    if ((mask & ((1u << c) - 1)) != 0) ++passing;
  }
  return static_cast<double>(passing) / static_cast<double>(subsets);
}

TEST(PassAtKTest, MatchesBruteForceEnumerationOfAllSubsets) {
  for (int n = 1; n <= 14; ++n) {
    for (int c = 0; c <= n; ++c) {
      for (int k = 1; k <= n; ++k) {
        EXPECT_NEAR(PassAtK(n, c, k), BruteForcePassAtK(n, c, k), 1e-14)
            << "n=" << n << " c=" << c << " k=" << k;
      }
    }
  }
}

TEST(PassAtKTest, KnownValuesAndLargeN) {
  EXPECT_EQ(PassAtK(10, 0, 5), 0.0);
  EXPECT_EQ(PassAtK(10, 6, 5), 1.0);           // n − c < k: every 5-subset has a right one
  EXPECT_NEAR(PassAtK(10, 3, 1), 0.3, 1e-15);  // pass@1 is the share right
  EXPECT_NEAR(PassAtK(5, 1, 2), 0.4, 1e-15);   // 1 − C(4,2)/C(5,2) = 1 − 6/10
  // n = 200 (Codex's setting): factorials would overflow; the product does not.
  const double p = PassAtK(200, 3, 100);
  EXPECT_GT(p, 0.87);
  EXPECT_LT(p, 0.88);  // 1 − (100·99·98)/(200·199·198) = 0.8768...
  EXPECT_NEAR(p, 1 - (100.0 * 99 * 98) / (200.0 * 199 * 198), 1e-14);
}

TEST(PassAtKTest, ItemRowChecksKAgainstTheSamples) {
  PassAtKMetric m(/*k=*/5);
  double row[1];
  ASSERT_OK(m.ItemRow(10, 3, absl::MakeSpan(row)));
  EXPECT_NEAR(row[0], BruteForcePassAtK(10, 3, 5), 1e-14);
  EXPECT_THAT(m.ItemRow(4, 1, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("k = 5 needs at least 5")));
  EXPECT_THAT(m.ItemRow(10, 2.5, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PassAtKTest, SamplesAreJudgedAgainstReferencesOrByAField) {
  PassAtKMetric by_reference(1);
  double row[1] = {-1};
  ASSERT_OK(by_reference.ScoreExample({" 42\n"}, {{"41", "42"}}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 1);
  ASSERT_OK(by_reference.ScoreExample({"43"}, {{"42"}}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 0);
  PassAtKMetric by_field(1, "passed");
  ASSERT_OK(by_field.ScoreExample({"true"}, {}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 1);
  ASSERT_OK(by_field.ScoreExample({"0"}, {}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 0);
  EXPECT_THAT(by_field.ScoreExample({"0.5"}, {}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field 'passed'")));
}

TEST(PassAtKTest, FromSpecNeedsK) {
  emar::v1::MetricSpec spec;
  spec.set_name("pass_at_k");
  EXPECT_THAT(PassAtKMetric::FromSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'k' is required")));
  spec.set_k(0);
  EXPECT_THAT(PassAtKMetric::FromSpec(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec.set_k(10);
  spec.set_field("passed");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PassAtKMetric> m, PassAtKMetric::FromSpec(spec));
  EXPECT_EQ(m->k(), 10);
  EXPECT_EQ(m->signature(), "pass_at_k|k:10|field:passed|estimator:chen2021|version:emar-0.1");
  EXPECT_FALSE(m->is_binary());
  spec.set_direction("lower_is_better");
  EXPECT_THAT(PassAtKMetric::FromSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'direction'")));
}

TEST(PassAtKTest, IsRegistered) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric("pass_at_k"));
  EXPECT_EQ(m->name(), "pass_at_k");
}

}  // namespace
}  // namespace emar
