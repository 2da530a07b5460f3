#include "eval/metrics/bleu_scorer.h"

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonNumber;
using ::emar::testing::JsonNumbers;
using ::emar::testing::JsonStrings;
using ::emar::testing::ReferenceLists;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::TextPredictions;
using ::emar::testing::VectorLine;

BleuOptions OptionsOf(simdjson::dom::element params) {
  BleuOptions o;
  std::string_view tok = params["tokenize"].get_string().value();
  o.tokenize = tok == "13a"    ? BleuOptions::Tokenize::k13a
               : tok == "none" ? BleuOptions::Tokenize::kNone
                               : BleuOptions::Tokenize::kChar;
  EXPECT_TRUE(tok == "13a" || tok == "none" || tok == "char") << tok;
  std::string_view smooth = params["smooth_method"].get_string().value();
  o.smooth = smooth == "exp"     ? BleuOptions::Smooth::kExp
             : smooth == "none"  ? BleuOptions::Smooth::kNone
             : smooth == "floor" ? BleuOptions::Smooth::kFloor
                                 : BleuOptions::Smooth::kAddK;
  EXPECT_TRUE(smooth == "exp" || smooth == "none" || smooth == "floor" || smooth == "add-k");
  if (!params["smooth_value"].is_null()) o.smooth_value = JsonNumber(params["smooth_value"]);
  o.effective_order = params["effective_order"].get_bool().value();
  o.lowercase = params["lowercase"].get_bool().value();
  o.max_order = static_cast<int>(params["max_ngram_order"].get_int64().value());
  return o;
}

// Compares statistics and score of one (corpus or sentence) result with a sacrebleu record.
void ExpectMatches(absl::Span<const double> stats, const BleuOptions& o,
                   simdjson::dom::element expected, double tol) {
  const BleuScore s = ComputeBleu(stats, o);
  EXPECT_CLOSE(s.score, JsonNumber(expected["score"]) / 100, tol);
  EXPECT_CLOSE(s.bp, JsonNumber(expected["bp"]), tol);
  EXPECT_EQ(stats[0], JsonNumber(expected["sys_len"]));
  EXPECT_EQ(stats[1], JsonNumber(expected["ref_len"]));
  const std::vector<double> counts = JsonNumbers(expected["counts"]);
  const std::vector<double> totals = JsonNumbers(expected["totals"]);
  const std::vector<double> precisions = JsonNumbers(expected["precisions"]);
  ASSERT_EQ(counts.size(), static_cast<size_t>(o.max_order));
  for (int n = 0; n < o.max_order; ++n) {
    EXPECT_EQ(stats[2 + n], counts[n]) << "order " << n + 1;
    EXPECT_EQ(stats[2 + o.max_order + n], totals[n]) << "order " << n + 1;
    EXPECT_CLOSE(s.precisions[n], precisions[n] / 100, tol) << "order " << n + 1;
  }
}

// Every line of bleu.jsonl, through the option-taking functions (the vectors use tokenizers,
// smoothing and orders that the fixed `bleu` metric does not).
class BleuVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BleuVectorTest, MatchesSacrebleu) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const BleuOptions o = OptionsOf((*v)["params"]);
  const std::vector<std::string> hyps = JsonStrings((*v)["predictions"]);
  const std::vector<Reference> refs = ReferenceLists((*v)["references"]);
  ASSERT_EQ(hyps.size(), refs.size());
  const double tol = v->relative_tolerance();
  std::string_view mode = (*v)["params"]["mode"].get_string().value();
  std::vector<double> corpus(BleuStatsWidth(o)), stats(BleuStatsWidth(o));
  std::vector<std::vector<double>> per_segment;
  for (size_t i = 0; i < hyps.size(); ++i) {
    BleuSegmentStatistics(hyps[i], refs[i].texts, o, absl::MakeSpan(stats));
    for (size_t k = 0; k < stats.size(); ++k) corpus[k] += stats[k];
    per_segment.push_back(stats);
  }
  if (mode == "corpus") {
    ExpectMatches(corpus, o, (*v)["expected"], tol);
  } else {
    ASSERT_EQ(mode, "sentence");
    const std::vector<double> scores = JsonNumbers((*v)["expected"]["scores"]);
    ASSERT_EQ(scores.size(), hyps.size());
    size_t i = 0;
    for (simdjson::dom::element detail : (*v)["expected"]["details"].get_array()) {
      SCOPED_TRACE(::testing::Message() << "sentence " << i);
      ExpectMatches(per_segment[i], o, detail, tol);
      EXPECT_CLOSE(ComputeBleu(per_segment[i], o).score, scores[i] / 100, tol);
      ++i;
    }
  }
  // The registered metric is the default configuration: check it on those lines too.
  const bool is_default = o.tokenize == BleuOptions::Tokenize::k13a &&
                          o.smooth == BleuOptions::Smooth::kExp && o.smooth_value < 0 &&
                          !o.effective_order && !o.lowercase && o.max_order == 4;
  if (is_default && mode == "corpus") {
    ASSERT_OK_AND_ASSIGN(MetricValue value, ScoreCorpus(BleuMetric(), TextPredictions(hyps), refs));
    ASSERT_TRUE(value.value.has_value());
    EXPECT_CLOSE(*value.value, JsonNumber((*v)["expected"]["score"]) / 100, tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Bleu, BleuVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("bleu.jsonl")),
                         emar::testing::VectorTestName);

TEST(BleuMetricTest, ShapeAndErrors) {
  BleuMetric m;
  EXPECT_EQ(m.stats_width(), 10u);
  EXPECT_EQ(m.signature(), "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  std::vector<double> row(10);
  EXPECT_THAT(m.ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row)),
              emar::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      ::testing::HasSubstr("references")));
  std::vector<double> acc(10);
  EXPECT_FALSE(m.Finalize(acc, 0, 0).value.has_value());
}

TEST(BleuMetricTest, WeightTwoEqualsDuplicatedSegment) {
  BleuMetric m;
  std::vector<double> a(10), b(10);
  ASSERT_OK(m.ScoreExample(Prediction{"the cat sat on the mat"},
                           Reference{{"the cat is on the mat"}}, nullptr, absl::MakeSpan(a)));
  ASSERT_OK(m.ScoreExample(Prediction{"a dog ran off quickly"},
                           Reference{{"the dog ran away", "a dog ran off fast"}}, nullptr,
                           absl::MakeSpan(b)));
  std::vector<double> weighted(10), duplicated(10);
  m.Accumulate(a, 2, 0, absl::MakeSpan(weighted));
  m.Accumulate(b, 1, 0, absl::MakeSpan(weighted));
  for (const auto* row : {&a, &a, &b}) m.Accumulate(*row, 1, 0, absl::MakeSpan(duplicated));
  EXPECT_DOUBLE_EQ(*m.Finalize(weighted, 0, 3).value, *m.Finalize(duplicated, 0, 3).value);
  EXPECT_GT(*m.Finalize(weighted, 0, 3).value, 0);
}

TEST(BleuSegmentStatisticsTest, ClippingTakesMaxOverReferences) {
  BleuOptions o;
  std::vector<double> s(BleuStatsWidth(o));
  BleuSegmentStatistics("the the the the", std::vector<std::string>{"the cat", "the the dog"}, o,
                        absl::MakeSpan(s));
  EXPECT_EQ(s[0], 4);
  EXPECT_EQ(s[1], 3);  // |4-2| = 2 > |4-3| = 1
  EXPECT_EQ(s[2], 2);  // unigram "the": min(4, max(1, 2))
  EXPECT_EQ(s[3], 1);  // bigram "the the": min(3, 1)
  EXPECT_EQ(s[6], 4);
  EXPECT_EQ(s[7], 3);
}

TEST(BleuSegmentStatisticsTest, LongSegmentsUseTheUnpackedPath) {
  // 70k distinct tokens need 17 bits per id: 4 × 17 > 64, so n-grams are interned.
  std::string hyp, ref;
  for (int i = 0; i < 70000; ++i) {
    absl::StrAppend(&hyp, "w", i, " ");
    absl::StrAppend(&ref, "w", i % 2 == 0 ? i : i + 1000000, " ");
  }
  BleuOptions o;
  std::vector<double> s(BleuStatsWidth(o));
  BleuSegmentStatistics(hyp, std::vector<std::string>{ref}, o, absl::MakeSpan(s));
  EXPECT_EQ(s[2], 35000);  // even-index unigrams match
  EXPECT_EQ(s[3], 0);      // no two adjacent tokens both match
  EXPECT_EQ(s[6], 70000);
  EXPECT_EQ(s[9], 69997);
}

}  // namespace
}  // namespace emar
