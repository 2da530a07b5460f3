// Tests of client/plan_command.h: plans for 0/1 and other metrics, both modes, the text and JSON
// output, and the flags-driven entry point that `emarctl plan` calls.
#include "client/plan_command.h"

#include <sstream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::optional<double>, baseline);
ABSL_DECLARE_FLAG(std::optional<double>, margin);
ABSL_DECLARE_FLAG(bool, one_sided);

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PlanCommandTest, BinaryMetricPlansMcNemarFromTheBaseline) {
  PlanRequest r;
  r.metric = "accuracy";
  r.baseline = 0.70;
  r.margin = 0.05;
  ASSERT_OK_AND_ASSIGN(PlanResult plan, MakePlan(r));
  ASSERT_OK_AND_ASSIGN(BinaryPlan expected, PlanBinary(0.70, 0.05, std::nullopt, {}));
  EXPECT_TRUE(plan.binary);
  EXPECT_EQ(*plan.items, expected.items);
  EXPECT_EQ(*plan.items, 1254);  // statsmodels normal_sample_size_one_tail: 1253.46
  EXPECT_TRUE(plan.discordance_assumed);
  const std::string text = PlanToText(plan);
  EXPECT_THAT(text, HasSubstr("1254 items to detect +0.05 on accuracy (two-sided at alpha 0.05"));
  EXPECT_THAT(text, HasSubstr("assumed"));
  EXPECT_THAT(PlanToJson(plan), HasSubstr("\"test\": \"mcnemar\""));
  EXPECT_THAT(PlanToJson(plan), HasSubstr("\"items\": 1254, \"mde\": null"));

  r.discordance = 0.12;  // a fine-tune that disagrees with its base on 12 % of items
  ASSERT_OK_AND_ASSIGN(PlanResult close, MakePlan(r));
  EXPECT_LT(*close.items, 400);
  EXPECT_THAT(PlanToText(close), HasSubstr("discordance 0.1200 (given)"));
}

TEST(PlanCommandTest, ItemsModeGivesTheMde) {
  PlanRequest r;
  r.metric = "exact_match";
  r.baseline = 0.5;
  r.items = 2000;
  ASSERT_OK_AND_ASSIGN(PlanResult plan, MakePlan(r));
  ASSERT_OK_AND_ASSIGN(double mde, McNemarMinimumDetectableEffect(0.5, 2000, {}));
  EXPECT_EQ(*plan.mde, mde);  // ψ assumed 2 p0 (1 − p0) = 0.5
  EXPECT_THAT(PlanToText(plan),
              HasSubstr("minimum detectable effect of 2000 items on exact_match: 0.0443"));
}

TEST(PlanCommandTest, OtherMetricsNeedTheSd) {
  PlanRequest r;
  r.metric = "token_f1";
  r.margin = 0.02;
  EXPECT_THAT(MakePlan(r), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--sd")));
  r.sd = 0.4;
  ASSERT_OK_AND_ASSIGN(PlanResult plan, MakePlan(r));
  ASSERT_OK_AND_ASSIGN(int64_t items, ItemsNeeded(0.4, 0.02, {}));
  EXPECT_FALSE(plan.binary);
  EXPECT_EQ(*plan.items, items);
  EXPECT_THAT(PlanToJson(plan), HasSubstr("\"test\": \"normal\""));
}

TEST(PlanCommandTest, BadInputsNameTheFlag) {
  PlanRequest r;
  r.metric = "accuracy";
  r.margin = 0.05;
  EXPECT_THAT(MakePlan(r), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--baseline")));
  r.metric = "no_such_metric";
  EXPECT_THAT(MakePlan(r), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown")));
  r.metric = "accuracy";
  r.baseline = 0.7;
  r.margin.reset();
  EXPECT_THAT(MakePlan(r), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--margin")));
}

TEST(PlanCommandTest, RunPlanCommandReadsItsFlags) {
  absl::SetFlag(&FLAGS_baseline, 0.9);
  absl::SetFlag(&FLAGS_margin, 0.02);
  absl::SetFlag(&FLAGS_one_sided, true);
  std::ostringstream out, err;
  EXPECT_EQ(RunPlanCommand("accuracy", /*json=*/false, out, err), 0) << err.str();
  // statsmodels: ceil(normal_sample_size_one_tail(0.02, 0.8, 0.05, ...)) = 2533
  EXPECT_THAT(out.str(), HasSubstr("2533 items to detect +0.02 on accuracy (one-sided"));
  absl::SetFlag(&FLAGS_margin, std::nullopt);
  std::ostringstream out2, err2;
  EXPECT_EQ(RunPlanCommand("accuracy", false, out2, err2), 2);
  EXPECT_THAT(err2.str(), HasSubstr("plan needs --margin"));
  absl::SetFlag(&FLAGS_margin, 0.5);  // 0.9 + 0.5 > 1
  std::ostringstream out3, err3;
  EXPECT_EQ(RunPlanCommand("accuracy", false, out3, err3), 1);
  EXPECT_THAT(err3.str(), HasSubstr("margin"));
}

}  // namespace
}  // namespace emar
