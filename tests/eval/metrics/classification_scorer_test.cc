#include "eval/metrics/classification_scorer.h"

#include <cmath>
#include <map>

#include "common/status_matchers.h"
#include "eval/metrics/accuracy_scorer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonLabel;
using ::emar::testing::JsonNumber;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;
using ::emar::testing::VectorLine;

// Scores a value, returning NaN for "undefined" so vectors' "nan" can be compared.
double ValueOrNan(const MetricValue& v) { return v.value.has_value() ? *v.value : std::nan(""); }

// Every line of classification.jsonl: accuracy, macro-F1, micro-F1, MCC and per-class F1.
class ClassificationVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClassificationVectorTest, MatchesScikitLearn) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  std::vector<Prediction> preds;
  std::vector<Reference> refs;
  for (simdjson::dom::element e : (*v)["predictions"].get_array()) {
    preds.push_back(Prediction{JsonLabel(e)});
  }
  for (simdjson::dom::element e : (*v)["references"].get_array()) {
    refs.push_back(Reference{{JsonLabel(e)}});
  }
  const simdjson::dom::element expected = (*v)["expected"];
  const double tol = v->relative_tolerance();
  const bool empty = preds.empty();
  for (const auto& [metric, key] : std::vector<std::pair<std::shared_ptr<Metric>, const char*>>{
           {std::make_shared<MacroF1Metric>(), "macro_f1"},
           {std::make_shared<MicroF1Metric>(), "micro_f1"},
           {std::make_shared<MccMetric>(), "mcc"},
           {std::make_shared<AccuracyMetric>(), "accuracy"}}) {
    ASSERT_OK_AND_ASSIGN(MetricValue value, ScoreCorpus(*metric, preds, refs));
    if (empty) {
      // Deviation by design: sklearn gives NaN/NaN/0/0 on empty input (implementation-defined,
      // see the line's note); we report every metric as undefined rather than a number.
      EXPECT_FALSE(value.value.has_value()) << key;
      EXPECT_EQ(value.undefined_reason, "no examples") << key;
      continue;
    }
    ASSERT_TRUE(value.value.has_value()) << key << ": " << value.undefined_reason;
    EXPECT_CLOSE(*value.value, JsonNumber(expected[key]), tol) << key;
  }
  // Per-class F1, matched by label string (our ids are first-seen order, sklearn's sorted).
  LabelTable labels;
  MacroF1Metric m;
  std::vector<double> acc;
  std::vector<std::array<double, 2>> rows(preds.size());
  for (size_t i = 0; i < preds.size(); ++i) {
    ASSERT_OK(m.ScoreExample(preds[i], refs[i], &labels, absl::MakeSpan(rows[i])));
  }
  acc.assign(m.AccumulatorWidth(labels.size()), 0);
  for (const auto& row : rows) m.Accumulate(row, 1, labels.size(), absl::MakeSpan(acc));
  const ConfusionSummary s = SummarizeConfusion(acc, labels.size());
  std::map<std::string, double> ours;
  for (size_t k = 0; k < s.labels.size(); ++k) ours[labels.label(s.labels[k])] = s.f1[k];
  std::vector<std::string> expected_labels;
  for (simdjson::dom::element e : expected["labels"].get_array()) {
    expected_labels.push_back(JsonLabel(e));
  }
  const std::vector<double> expected_f1 = emar::testing::JsonNumbers(expected["per_class_f1"]);
  ASSERT_EQ(ours.size(), expected_labels.size());
  for (size_t k = 0; k < expected_labels.size(); ++k) {
    ASSERT_TRUE(ours.count(expected_labels[k])) << expected_labels[k];
    EXPECT_CLOSE(ours[expected_labels[k]], expected_f1[k], tol) << expected_labels[k];
  }
}

INSTANTIATE_TEST_SUITE_P(Classification, ClassificationVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("classification.jsonl")),
                         emar::testing::VectorTestName);

// Builds an accumulator from (gold, pred, weight) triples over a fixed label count.
std::vector<double> Confusion(size_t num_labels,
                              const std::vector<std::tuple<int, int, double>>& cells) {
  MacroF1Metric m;
  std::vector<double> acc(m.AccumulatorWidth(num_labels));
  for (const auto& [g, p, w] : cells) {
    const double row[2] = {double(g), double(p)};
    m.Accumulate(row, w, num_labels, absl::MakeSpan(acc));
  }
  return acc;
}

TEST(ConfusionMetricTest, WeightTwoEqualsDuplicatedRow) {
  const auto weighted = Confusion(3, {{0, 0, 2}, {1, 2, 1}, {2, 2, 1}, {1, 1, 1}});
  const auto duplicated = Confusion(3, {{0, 0, 1}, {0, 0, 1}, {1, 2, 1}, {2, 2, 1}, {1, 1, 1}});
  const MacroF1Metric macro;
  const MicroF1Metric micro;
  const MccMetric mcc;
  for (const Metric* m : std::initializer_list<const Metric*>{&macro, &micro, &mcc}) {
    EXPECT_DOUBLE_EQ(*m->Finalize(weighted, 3, 5).value, *m->Finalize(duplicated, 3, 5).value)
        << m->name();
  }
}

TEST(ConfusionMetricTest, LabelAbsentFromResampleIsNotAveraged) {
  // Table knows 3 labels; this resample only has label 0 and 1 (label 2 got weight 0).
  const auto acc = Confusion(3, {{0, 0, 2}, {1, 1, 1}, {1, 0, 1}, {2, 2, 0}});
  // sklearn on y_true=[0,0,1,1], y_pred=[0,0,1,0]: F1(0)=0.8, F1(1)=2/3.
  EXPECT_DOUBLE_EQ(*MacroF1Metric().Finalize(acc, 3, 4).value, (0.8 + 2.0 / 3.0) / 2);
  EXPECT_DOUBLE_EQ(*MicroF1Metric().Finalize(acc, 3, 4).value, 0.75);
  // MCC = (3*4 - (2*3 + 2*1)) / sqrt((16 - 10)(16 - 8)) = 4 / sqrt(48)
  EXPECT_DOUBLE_EQ(*MccMetric().Finalize(acc, 3, 4).value, 4 / std::sqrt(48.0));
  // A label that appears only as a prediction still counts (F1 0), as in sklearn.
  const auto only_pred = Confusion(3, {{0, 0, 1}, {0, 2, 1}});
  EXPECT_DOUBLE_EQ(*MacroF1Metric().Finalize(only_pred, 3, 2).value, (2.0 / 3.0 + 0) / 2);
}

TEST(ConfusionMetricTest, SingleClassAllCorrect) {
  const auto acc = Confusion(1, {{0, 0, 5}});
  EXPECT_EQ(*MacroF1Metric().Finalize(acc, 1, 5).value, 1.0);
  EXPECT_EQ(*MccMetric().Finalize(acc, 1, 5).value, 0.0);
}

TEST(ConfusionMetricTest, EmptyIsUndefined) {
  const auto acc = Confusion(2, {});
  EXPECT_FALSE(MacroF1Metric().Finalize(acc, 2, 0).value.has_value());
  EXPECT_FALSE(MccMetric().Finalize(acc, 0, 0).value.has_value());
}

TEST(ConfusionMetricTest, RowsAreStrippedLabelIds) {
  MccMetric m;
  EXPECT_TRUE(m.uses_labels());
  EXPECT_FALSE(m.is_binary());
  LabelTable labels;
  double row[2];
  ASSERT_OK(m.ScoreExample(Prediction{" yes\n"}, Reference{{"no"}}, &labels, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 0);
  EXPECT_EQ(row[1], 1);
  ASSERT_OK(m.ScoreExample(Prediction{"no"}, Reference{{"yes "}}, &labels, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 1);
  EXPECT_EQ(row[1], 0);
  EXPECT_THAT(labels.labels(), ::testing::ElementsAre("no", "yes"));
}

TEST(ConfusionMetricTest, Errors) {
  MacroF1Metric m;
  LabelTable labels;
  double row[2];
  EXPECT_THAT(m.ScoreExample(Prediction{"a"}, Reference{{"a", "b"}}, &labels, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("references")));
  EXPECT_THAT(m.ScoreExample(Prediction{"a"}, Reference{}, &labels, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("references")));
  EXPECT_FALSE(
      m.ScoreExample(Prediction{"a"}, Reference{{"a"}}, nullptr, absl::MakeSpan(row)).ok());
}

}  // namespace
}  // namespace emar
