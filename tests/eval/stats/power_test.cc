// Tests of eval/stats/power.h: the closed forms against their definitions (inverse pairs, known
// z values), a Monte-Carlo check that a plan's items give the planned power, and the errors.
// The comparison with statsmodels' power functions is in stats_reference_test.
#include "eval/stats/power.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "common/status_matchers.h"
#include "eval/stats/deterministic_rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kZ975 = 1.959963984540054;
constexpr double kZ95 = 1.6448536269514722;
constexpr double kZ80 = 0.8416212335729143;

PowerOptions OneSided() {
  PowerOptions o;
  o.sides = Sidedness::kOneSided;
  return o;
}

TEST(PowerTest, MinimumDetectableEffectFromAStandardError) {
  ASSERT_OK_AND_ASSIGN(double two, MinimumDetectableEffect(0.01, PowerOptions{}));
  EXPECT_NEAR(two, (kZ975 + kZ80) * 0.01, 1e-15);
  ASSERT_OK_AND_ASSIGN(double one, MinimumDetectableEffect(0.01, OneSided()));
  EXPECT_NEAR(one, (kZ95 + kZ80) * 0.01, 1e-15);
  ASSERT_OK_AND_ASSIGN(double zero, MinimumDetectableEffect(0, PowerOptions{}));
  EXPECT_EQ(zero, 0);
}

TEST(PowerTest, ItemsNeededInvertsTheMde) {
  // sd 0.4 per item, delta 0.02: n = ((z_a + z_b) 0.4 / 0.02)² = 3139.5... -> 3140.
  ASSERT_OK_AND_ASSIGN(int64_t n, ItemsNeeded(0.4, 0.02, PowerOptions{}));
  const double exact = std::pow((kZ975 + kZ80) * 0.4 / 0.02, 2);
  EXPECT_EQ(n, static_cast<int64_t>(std::ceil(exact)));
  // With n items the SE is sd / √n and the MDE is at most the delta asked for.
  ASSERT_OK_AND_ASSIGN(double mde, MinimumDetectableEffect(0.4 / std::sqrt(n), PowerOptions{}));
  EXPECT_LE(mde, 0.02);
  ASSERT_OK_AND_ASSIGN(double mde_less, MinimumDetectableEffect(0.4 / std::sqrt(n - 1), {}));
  EXPECT_GT(mde_less, 0.02);
  ASSERT_OK_AND_ASSIGN(int64_t tiny, ItemsNeeded(0.001, 0.5, PowerOptions{}));
  EXPECT_EQ(tiny, 1);
}

TEST(PowerTest, McNemarMdeAndItemsAreInverses) {
  for (PowerOptions o : {PowerOptions{}, OneSided(), PowerOptions{0.01, 0.9}}) {
    for (double psi : {0.05, 0.2, 0.6}) {
      for (int64_t n : {100, 1500, 20000}) {
        ASSERT_OK_AND_ASSIGN(double mde, McNemarMinimumDetectableEffect(psi, n, o));
        // 100 items with 5 % discordance: no difference the pairs allow (|δ| <= ψ) is
        // detectable; the MDE says so by exceeding ψ, and no inverse exists.
        if (psi == 0.05 && n == 100) {
          EXPECT_GT(mde, psi);
          continue;
        }
        ASSERT_OK_AND_ASSIGN(double items, McNemarItems(psi, mde, o));
        EXPECT_NEAR(items, static_cast<double>(n), 1e-7 * n) << psi << " " << n;
      }
    }
  }
}

TEST(PowerTest, McNemarMdeApproachesTheSeFormulaForLargeSamples) {
  // For δ² << ψ the alternative's variance is ψ too: MDE ≈ (z_a + z_b) √(ψ / n).
  ASSERT_OK_AND_ASSIGN(double mde, McNemarMinimumDetectableEffect(0.3, 1000000, {}));
  EXPECT_NEAR(mde, (kZ975 + kZ80) * std::sqrt(0.3 / 1e6), 1e-6);
}

TEST(PowerTest, PlanBinaryAssumesIndependentErrorsUnlessToldOtherwise) {
  ASSERT_OK_AND_ASSIGN(BinaryPlan plan, PlanBinary(0.70, 0.05, std::nullopt, {}));
  EXPECT_TRUE(plan.discordance_assumed);
  EXPECT_NEAR(plan.discordance, 0.7 * 0.25 + 0.75 * 0.3, 1e-15);
  EXPECT_NEAR(plan.only_base_right, (0.4 - 0.05) / 2, 1e-15);
  EXPECT_NEAR(plan.only_candidate_right, (0.4 + 0.05) / 2, 1e-15);
  ASSERT_OK_AND_ASSIGN(int64_t items, McNemarItemsNeeded(0.4, 0.05, {}));
  EXPECT_EQ(plan.items, items);
  // A fine-tune disagreeing with its base on 10 % of items needs far fewer.
  ASSERT_OK_AND_ASSIGN(BinaryPlan close, PlanBinary(0.70, 0.05, 0.10, {}));
  EXPECT_FALSE(close.discordance_assumed);
  EXPECT_LT(close.items, plan.items / 3);
}

TEST(PowerTest, PlannedItemsGiveThePlannedPowerInSimulation) {
  // Draw the planned number of paired items from the plan's joint cells, run McNemar's z test
  // (no continuity correction, the test the formula approximates) at α = 0.05, and count how
  // often it rejects: about 80 % (Monte-Carlo SE 0.9 % at 2,000 trials).
  ASSERT_OK_AND_ASSIGN(BinaryPlan plan, PlanBinary(0.60, 0.04, 0.16, {}));
  const double p11 = plan.baseline - plan.only_base_right;
  const double p00 = 1 - p11 - plan.only_base_right - plan.only_candidate_right;
  const std::vector<uint64_t> weights = {
      static_cast<uint64_t>(std::llround(p11 * 1e9)),
      static_cast<uint64_t>(std::llround(plan.only_base_right * 1e9)),
      static_cast<uint64_t>(std::llround(plan.only_candidate_right * 1e9)),
      static_cast<uint64_t>(std::llround(p00 * 1e9))};
  constexpr int kTrials = 2000;
  int rejected = 0;
  std::vector<uint64_t> cells(4);
  for (int t = 0; t < kTrials; ++t) {
    DeterministicRng rng = DeterministicRng::ForStream(7, {static_cast<uint64_t>(t)});
    rng.Multinomial(static_cast<uint64_t>(plan.items), weights, absl::MakeSpan(cells));
    const double b = static_cast<double>(cells[1]), c = static_cast<double>(cells[2]);
    if (b + c > 0 && std::fabs(c - b) / std::sqrt(b + c) > kZ975) ++rejected;
  }
  EXPECT_NEAR(rejected / static_cast<double>(kTrials), 0.80, 0.03) << plan.items << " items";
}

TEST(PowerTest, RefusesImpossibleInputs) {
  EXPECT_THAT(MinimumDetectableEffect(-1, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MinimumDetectableEffect(0.1, {0.0, 0.8}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("alpha")));
  EXPECT_THAT(MinimumDetectableEffect(0.1, {0.05, 1.0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("power")));
  EXPECT_THAT(ItemsNeeded(0.3, 0, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(McNemarItems(0.05, 0.1, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least")));
  EXPECT_THAT(McNemarMinimumDetectableEffect(0, 100, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("discordance")));
  EXPECT_THAT(McNemarMinimumDetectableEffect(0.2, 1, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too few")));
  EXPECT_THAT(PlanBinary(1.2, 0.05, std::nullopt, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("baseline")));
  EXPECT_THAT(PlanBinary(0.97, 0.05, std::nullopt, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("margin")));
  // Baseline 0.95: at most 5 % of items can be "only the candidate right", so ψ <= 2 (1 − 0.95) −
  // 0.02 = 0.08
  EXPECT_THAT(PlanBinary(0.95, 0.02, 0.5, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("impossible")));
}

}  // namespace
}  // namespace emar
