#include "eval/metrics/exact_match_scorer.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonNumber;
using ::emar::testing::JsonStrings;
using ::emar::testing::ReferenceLists;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;
using ::emar::testing::TextPredictions;
using ::emar::testing::VectorLine;

// Every line of squad.jsonl: corpus EM and F1 (0-100 there, fractions here) and the per-example
// 0/1 EM and F1 rows.
class SquadVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SquadVectorTest, MatchesReference) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const auto preds = TextPredictions(JsonStrings((*v)["predictions"]));
  const auto refs = ReferenceLists((*v)["references"]);
  const double tol = v->relative_tolerance();
  std::vector<std::vector<double>> em_rows, f1_rows;
  ASSERT_OK_AND_ASSIGN(MetricValue em, ScoreCorpus(ExactMatchMetric(), preds, refs, &em_rows));
  ASSERT_OK_AND_ASSIGN(MetricValue f1, ScoreCorpus(TokenF1Metric(), preds, refs, &f1_rows));
  ASSERT_TRUE(em.value.has_value());
  ASSERT_TRUE(f1.value.has_value());
  EXPECT_CLOSE(*em.value, JsonNumber((*v)["expected"]["exact_match"]) / 100, tol);
  EXPECT_CLOSE(*f1.value, JsonNumber((*v)["expected"]["f1"]) / 100, tol);
  size_t i = 0;
  for (simdjson::dom::element ex : (*v)["expected"]["per_example"].get_array()) {
    ASSERT_LT(i, em_rows.size());
    EXPECT_CLOSE(em_rows[i][0], JsonNumber(ex["em"]), tol) << "example " << i;
    EXPECT_CLOSE(f1_rows[i][0], JsonNumber(ex["f1"]), tol) << "example " << i;
    ++i;
  }
  EXPECT_EQ(i, preds.size());
}

INSTANTIATE_TEST_SUITE_P(Squad, SquadVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("squad.jsonl")),
                         emar::testing::VectorTestName);

double Row(const Metric& m, absl::string_view pred, std::vector<std::string> refs) {
  double row[1] = {-1};
  EXPECT_OK(m.ScoreExample(Prediction{std::string(pred)}, Reference{std::move(refs)}, nullptr,
                           absl::MakeSpan(row)));
  return row[0];
}

TEST(ExactMatchMetricTest, MaxOverReferences) {
  ExactMatchMetric em;
  EXPECT_EQ(Row(em, "The Broncos!", {"Panthers", "broncos"}), 1);
  EXPECT_EQ(Row(em, "Broncos", {"Denver Broncos"}), 0);
}

TEST(TokenF1MetricTest, MaxOverReferencesAndEmptySides) {
  TokenF1Metric f1;
  EXPECT_DOUBLE_EQ(Row(f1, "denver broncos", {"broncos", "denver"}), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(Row(f1, "denver broncos", {"broncos", "the Denver Broncos"}), 1.0);
  EXPECT_EQ(Row(f1, "", {""}), 0);  // SQuAD v1.1: empty-vs-empty F1 is 0 while EM is 1
  EXPECT_EQ(Row(ExactMatchMetric(), "", {""}), 1);
  EXPECT_EQ(Row(f1, "", {"x"}), 0);
  EXPECT_EQ(Row(f1, "x", {""}), 0);
}

TEST(ExactMatchMetricTest, Shape) {
  ExactMatchMetric em;
  TokenF1Metric f1;
  EXPECT_TRUE(em.is_binary());
  EXPECT_FALSE(f1.is_binary());
  EXPECT_EQ(em.stats_width(), 1u);
  EXPECT_EQ(f1.stats_width(), 1u);
  // The normalization depends on Unicode classes, so the signature names the pinned version.
  EXPECT_EQ(em.signature(), "exact_match|norm:squad-v1.1|refs:max|unicode:14.0.0|version:emar-0.1");
  EXPECT_EQ(f1.signature(), "token_f1|norm:squad-v1.1|refs:max|unicode:14.0.0|version:emar-0.1");
  double row[1];
  EXPECT_THAT(em.ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("references")));
  EXPECT_THAT(f1.ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("references")));
}

TEST(TokenF1MetricTest, WeightedMean) {
  TokenF1Metric f1;
  std::vector<double> acc(1);
  f1.Accumulate(std::vector<double>{0.5}, 2, 0, absl::MakeSpan(acc));
  f1.Accumulate(std::vector<double>{1.0}, 1, 0, absl::MakeSpan(acc));
  EXPECT_DOUBLE_EQ(*f1.Finalize(acc, 0, 3).value, 2.0 / 3.0);
}

}  // namespace
}  // namespace emar
