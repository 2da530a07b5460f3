// The metric registry: every name docs/metrics.md documents makes a metric that calls itself by
// that name, the list is sorted, and an unknown name is refused with the known ones listed.
#include "eval/metrics/metric_registry.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/status_matchers.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

TEST(MetricRegistryTest, EveryDocumentedMetricIsRegisteredUnderItsOwnName) {
  const std::vector<std::string> documented = {"accuracy", "exact_match", "token_f1", "macro_f1",
                                               "micro_f1", "mcc",         "bleu",     "chrf",
                                               "rouge1",   "rouge2",      "rougeL",   "perplexity"};
  EXPECT_THAT(MetricNames(), IsSupersetOf(documented));
  for (const std::string& name : MetricNames()) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric(name));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->name(), name);
    EXPECT_GT(m->stats_width(), 0u) << name;
    EXPECT_FALSE(m->signature().empty()) << name;
  }
}

TEST(MetricRegistryTest, NamesAreSortedAndUnique) {
  const std::vector<std::string> names = MetricNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(MetricRegistryTest, EachCallMakesAFreshMetric) {
  ASSERT_OK_AND_ASSIGN(auto a, MakeMetric("bleu"));
  ASSERT_OK_AND_ASSIGN(auto b, MakeMetric("bleu"));
  EXPECT_NE(a.get(), b.get());
}

TEST(MetricRegistryTest, AnUnknownNameIsRefusedListingTheKnownOnes) {
  EXPECT_THAT(MakeMetric("Accuracy").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown metric \"Accuracy\"; known metrics: accuracy, bleu")));
  EXPECT_THAT(MakeMetric("").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace emar
