#include "eval/metrics/metric.h"

#include "common/status_matchers.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(LabelTableTest, InternsDenseIdsInFirstSeenOrder) {
  LabelTable t;
  EXPECT_EQ(t.Intern("pos"), 0u);
  EXPECT_EQ(t.Intern("neg"), 1u);
  EXPECT_EQ(t.Intern("pos"), 0u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.label(1), "neg");
  EXPECT_THAT(t.labels(), ::testing::ElementsAre("pos", "neg"));
}

TEST(LabelTableTest, CanonicalStringsAreDistinctKeys) {
  // The input layer renders 1, 1.0 and "1" all as "1"; the table itself compares bytes only.
  LabelTable t;
  EXPECT_EQ(t.Intern("1"), 0u);
  EXPECT_EQ(t.Intern("true"), 1u);
  EXPECT_EQ(t.Intern("1"), 0u);
  EXPECT_EQ(t.Intern(""), 2u);
  EXPECT_EQ(t.Intern("True"), 3u);
}

TEST(LabelTableTest, SurvivesRehashing) {
  LabelTable t;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(t.Intern("label" + std::to_string(i)), uint32_t(i));
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(t.Intern("label" + std::to_string(i)), uint32_t(i));
}

TEST(MetricRegistryTest, EveryNameBuildsAMetricOfThatName) {
  const std::vector<std::string> names = MetricNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_THAT(names, ::testing::ElementsAre("accuracy", "bleu", "chrf", "exact_match", "macro_f1",
                                            "mc_acc", "mc_acc_norm", "mcc", "micro_f1", "pass_at_k",
                                            "perplexity", "rouge1", "rouge2", "rougeL", "rougeLsum",
                                            "score", "token_f1"));
  for (const std::string& name : names) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric(name));
    EXPECT_EQ(m->name(), name);
    EXPECT_GT(m->stats_width(), 0u);
    if (name == "bleu" || name == "chrf") {
      // sacrebleu's own signature: no metric name, sacrebleu's version.
      EXPECT_THAT(m->signature(), ::testing::StartsWith("nrefs:var|case:mixed|"));
      EXPECT_THAT(m->signature(), ::testing::EndsWith("|version:2.6.0"));
    } else {
      EXPECT_THAT(m->signature(), ::testing::StartsWith(name));
      EXPECT_THAT(m->signature(), HasSubstr("version:emar-0.1"));
    }
    // Only the SQuAD metrics read Unicode classes that differ between Unicode versions (lower(),
    // `\w`); the others use Python whitespace (unchanged since Unicode 6.3), ASCII rules or, for
    // ROUGE, the two fixed non-ASCII lower-casings into ASCII (U+0130, U+212A).
    if (name == "exact_match" || name == "token_f1") {
      EXPECT_THAT(m->signature(), HasSubstr("|unicode:14.0.0|"));
    } else {
      EXPECT_THAT(m->signature(), ::testing::Not(HasSubstr("unicode:")));
    }
    EXPECT_EQ(m->direction(),
              name == "perplexity" ? Direction::kLowerIsBetter : Direction::kHigherIsBetter);
    EXPECT_EQ(m->is_binary(), name == "accuracy" || name == "exact_match" || name == "mc_acc" ||
                                  name == "mc_acc_norm");
    EXPECT_EQ(m->uses_labels(), name == "macro_f1" || name == "micro_f1" || name == "mcc");
  }
}

TEST(MetricRegistryTest, UnknownNameListsKnownOnes) {
  EXPECT_THAT(MakeMetric("blue"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("blue"), HasSubstr("accuracy"))));
}

TEST(DirectionTest, Names) {
  EXPECT_EQ(DirectionName(Direction::kHigherIsBetter), "higher_is_better");
  EXPECT_EQ(DirectionName(Direction::kLowerIsBetter), "lower_is_better");
}

TEST(MetricValueTest, ExactlyOneSide) {
  MetricValue v = MetricValue::Of(0.5);
  EXPECT_TRUE(v.value.has_value());
  EXPECT_TRUE(v.undefined_reason.empty());
  MetricValue u = MetricValue::Undefined("why");
  EXPECT_FALSE(u.value.has_value());
  EXPECT_EQ(u.undefined_reason, "why");
}

}  // namespace
}  // namespace emar
