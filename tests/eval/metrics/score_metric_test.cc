// Tests of eval/metrics/score_metric.h: values, range and direction options, errors naming the
// field, and an lm-evaluation-harness samples file read through the real PredictionReader.
#include "eval/metrics/score_metric.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "eval/input/prediction_reader.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

emar::v1::MetricSpec Spec(const std::string& field, std::vector<double> range = {},
                          const std::string& direction = "") {
  emar::v1::MetricSpec spec;
  spec.set_name("score");
  spec.set_field(field);
  for (double r : range) spec.add_range(r);
  spec.set_direction(direction);
  return spec;
}

double Score(const Metric& m, const std::string& text) {
  double row[1] = {-1};
  EXPECT_OK(m.ScoreExample({text}, {}, nullptr, absl::MakeSpan(row)));
  return row[0];
}

TEST(ScoreMetricTest, ReadsNumbersBooleansAndNumericStrings) {
  ScoreMetric m;
  EXPECT_EQ(Score(m, "0.75"), 0.75);
  EXPECT_EQ(Score(m, "7"), 7);
  EXPECT_EQ(Score(m, "-2.5e-1"), -0.25);
  EXPECT_EQ(Score(m, "true"), 1);
  EXPECT_EQ(Score(m, "false"), 0);
  EXPECT_EQ(Score(m, " 3 "), 3);
  double row[1];
  for (const char* bad : {"yes", "", "nan", "inf", "0x10", "1,5"}) {
    EXPECT_THAT(m.ScoreExample({bad}, {}, nullptr, absl::MakeSpan(row)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("field 'prediction': expected a finite number")))
        << bad;
  }
}

TEST(ScoreMetricTest, RangeIsCheckedPerExampleNamingTheField) {
  ASSERT_OK_AND_ASSIGN(auto m, ScoreMetric::FromSpec(Spec("judge.grade", {1, 10})));
  EXPECT_EQ(Score(*m, "10"), 10);
  EXPECT_EQ(Score(*m, "1"), 1);
  double row[1];
  EXPECT_THAT(m->ScoreExample({"11"}, {}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field 'judge.grade': 11 is outside the range [1, 10]")));
  EXPECT_EQ(m->signature(),
            "score|field:judge.grade|range:1,10|dir:higher_is_better|version:emar-0.1");
}

TEST(ScoreMetricTest, OptionsAreValidated) {
  EXPECT_THAT(ScoreMetric::FromSpec(Spec("x", {1})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'range'")));
  EXPECT_THAT(ScoreMetric::FromSpec(Spec("x", {5, 1})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min < max")));
  EXPECT_THAT(ScoreMetric::FromSpec(Spec("x", {}, "up")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'direction'")));
  emar::v1::MetricSpec with_k = Spec("x");
  with_k.set_k(3);
  EXPECT_THAT(ScoreMetric::FromSpec(with_k),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'k'")));
  ASSERT_OK_AND_ASSIGN(auto lower,
                       ScoreMetric::FromSpec(Spec("toxicity", {0, 1}, "lower_is_better")));
  EXPECT_EQ(lower->direction(), Direction::kLowerIsBetter);
  EXPECT_EQ(ScoreMetric::ValueField(Spec("toxicity")), "toxicity");
}

TEST(ScoreMetricTest, IsAPerExampleMeanAndRegistered) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric("score"));
  EXPECT_FALSE(m->is_binary());
  EXPECT_EQ(m->stats_width(), 1u);
  const double acc[1] = {6.0};
  EXPECT_EQ(m->Finalize(acc, 0, 8).value, 0.75);
}

// Two lines of an lm-evaluation-harness samples_*.jsonl (abridged), per-sample acc and acc_norm.
constexpr char kHarnessSamples[] =
    R"({"doc_id": 0, "target": 1, "filtered_resps": [["-3.2", "False"], ["-1.1", "False"]], "acc": 1.0, "acc_norm": 0.0})"
    "\n"
    R"({"doc_id": 1, "target": 0, "filtered_resps": [["-0.5", "False"], ["-2.0", "False"]], "acc": 0.0, "acc_norm": 1.0})"
    "\n";

std::vector<double> ScoreHarnessField(const std::string& field) {
  FieldConfig config;
  config.id_field = "doc_id";
  config.prediction_field = field;
  PredictionReader reader("samples_arc.jsonl", kHarnessSamples, 1, config);
  ScoreMetric metric(ScoreOptions{field, std::make_pair(0.0, 1.0)});
  std::vector<double> values;
  PredictionRecord rec;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&rec);
    EXPECT_OK(more.status());
    if (!more.ok() || !*more) break;
    double row[1];
    EXPECT_OK(metric.ScoreExample(rec.prediction, {}, nullptr, absl::MakeSpan(row)));
    values.push_back(row[0]);
  }
  return values;
}

TEST(ScoreMetricTest, ReadsTheHarnessPerSampleValues) {
  EXPECT_THAT(ScoreHarnessField("acc"), ::testing::ElementsAre(1.0, 0.0));
  EXPECT_THAT(ScoreHarnessField("acc_norm"), ::testing::ElementsAre(0.0, 1.0));
}

}  // namespace
}  // namespace emar
