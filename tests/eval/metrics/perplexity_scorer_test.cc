#include "eval/metrics/perplexity_scorer.h"

#include <cmath>
#include <limits>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonNumber;
using ::emar::testing::JsonNumbers;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;
using ::emar::testing::VectorLine;
using ::testing::HasSubstr;

Prediction WithLogprobs(std::vector<double> lp) {
  Prediction p;
  p.has_logprobs = true;
  p.token_logprobs = std::move(lp);
  return p;
}

// Every line of perplexity.jsonl: ppl (inf and nan are "undefined"), nll_sum, n_tokens.
class PerplexityVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PerplexityVectorTest, MatchesReference) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  std::vector<Prediction> preds;
  for (simdjson::dom::element seq : (*v)["predictions"].get_array()) {
    preds.push_back(WithLogprobs(JsonNumbers(seq)));
  }
  std::vector<Reference> refs(preds.size());
  std::vector<std::vector<double>> rows;
  ASSERT_OK_AND_ASSIGN(MetricValue value, ScoreCorpus(PerplexityMetric(), preds, refs, &rows));
  const simdjson::dom::element expected = (*v)["expected"];
  const double tol = v->relative_tolerance();
  const double ppl = JsonNumber(expected["ppl"]);
  if (std::isfinite(ppl)) {
    ASSERT_TRUE(value.value.has_value()) << value.undefined_reason;
    EXPECT_CLOSE(*value.value, ppl, tol);
  } else {
    EXPECT_FALSE(value.value.has_value());
    EXPECT_THAT(value.undefined_reason, HasSubstr(std::isnan(ppl) ? "no tokens" : "-inf"));
  }
  double tokens = 0, nll = 0, neg_inf = 0;
  for (const auto& row : rows) nll -= row[0], tokens += row[1], neg_inf += row[2];
  EXPECT_EQ(tokens, JsonNumber(expected["n_tokens"]));
  const double expected_nll = JsonNumber(expected["nll_sum"]);
  if (std::isfinite(expected_nll)) {
    EXPECT_EQ(neg_inf, 0);
    EXPECT_CLOSE(nll, expected_nll, tol);
  } else {
    EXPECT_GT(neg_inf, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Perplexity, PerplexityVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("perplexity.jsonl")),
                         emar::testing::VectorTestName);

TEST(PerplexityMetricTest, MissingLogprobsNamesTheField) {
  PerplexityMetric m;
  double row[3];
  EXPECT_THAT(m.ScoreExample(Prediction{"text"}, Reference{}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token_logprobs")));
  EXPECT_THAT(
      m.ScoreExample(WithLogprobs({-1, std::nan("")}), Reference{}, nullptr, absl::MakeSpan(row)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token_logprobs[1]")));
  EXPECT_THAT(m.ScoreExample(WithLogprobs({std::numeric_limits<double>::infinity()}), Reference{},
                             nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token_logprobs[0]")));
}

TEST(PerplexityMetricTest, CorpusTokenMeanNotMeanOfSequences) {
  ASSERT_OK_AND_ASSIGN(
      MetricValue v, ScoreCorpus(PerplexityMetric(),
                                 {WithLogprobs({-1, -1, -1}), WithLogprobs({-4}), WithLogprobs({})},
                                 std::vector<Reference>(3)));
  EXPECT_DOUBLE_EQ(*v.value, std::exp(7.0 / 4.0));
}

TEST(PerplexityMetricTest, WeightsAndDirection) {
  PerplexityMetric m;
  EXPECT_EQ(m.direction(), Direction::kLowerIsBetter);
  std::vector<double> acc(m.AccumulatorWidth(0));
  m.Accumulate(std::vector<double>{-2, 1, 0}, 2, 0, absl::MakeSpan(acc));
  m.Accumulate(std::vector<double>{-1, 2, 0}, 1, 0, absl::MakeSpan(acc));
  EXPECT_DOUBLE_EQ(*m.Finalize(acc, 0, 3).value, std::exp(5.0 / 4.0));
}

TEST(PerplexityMetricTest, OverflowIsUndefined) {
  PerplexityMetric m;
  const std::vector<double> acc = {-1000, 1, 0};
  MetricValue v = m.Finalize(acc, 0, 1);
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, HasSubstr("overflow"));
}

}  // namespace
}  // namespace emar
