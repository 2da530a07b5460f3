#include "eval/metrics/chrf_scorer.h"

#include "common/status_matchers.h"
#include "eval/metrics/unicode_text.h"
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

ChrfOptions OptionsOf(simdjson::dom::element p) {
  ChrfOptions o;
  o.char_order = static_cast<int>(p["char_order"].get_int64().value());
  o.beta = JsonNumber(p["beta"]);
  o.whitespace = p["whitespace"].get_bool().value();
  o.eps_smoothing = p["eps_smoothing"].get_bool().value();
  o.lowercase = p["lowercase"].get_bool().value();
  o.word_order = static_cast<int>(p["word_order"].get_int64().value());
  return o;
}

void ExpectStats(absl::Span<const double> stats, const std::vector<double>& expected) {
  ASSERT_EQ(stats.size(), expected.size());
  for (size_t k = 0; k < stats.size(); ++k) EXPECT_EQ(stats[k], expected[k]) << "stat " << k;
}

// Every line of chrf.jsonl, through the option-taking functions (the upstream lines use β = 3,
// eps smoothing and kept whitespace; the `chrf` metric is fixed to chrF2).
class ChrfVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ChrfVectorTest, MatchesSacrebleu) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  const ChrfOptions o = OptionsOf((*v)["params"]);
  const std::vector<std::string> hyps = JsonStrings((*v)["predictions"]);
  const std::vector<Reference> refs = ReferenceLists((*v)["references"]);
  ASSERT_EQ(hyps.size(), refs.size());
  const double tol = v->relative_tolerance();
  std::string_view mode = (*v)["params"]["mode"].get_string().value();
  std::vector<double> corpus(ChrfStatsWidth(o)), stats(ChrfStatsWidth(o));
  std::vector<std::vector<double>> per_segment;
  for (size_t i = 0; i < hyps.size(); ++i) {
    ChrfSegmentStatistics(hyps[i], refs[i].texts, o, absl::MakeSpan(stats));
    for (size_t k = 0; k < stats.size(); ++k) corpus[k] += stats[k];
    per_segment.push_back(stats);
  }
  const simdjson::dom::element expected = (*v)["expected"];
  if (mode == "corpus") {
    ExpectStats(corpus, JsonNumbers(expected["stats"]));
    EXPECT_CLOSE(ChrfScore(corpus, o), JsonNumber(expected["score"]) / 100, tol);
  } else {
    ASSERT_EQ(mode, "sentence");
    const std::vector<double> scores = JsonNumbers(expected["scores"]);
    ASSERT_EQ(scores.size(), hyps.size());
    size_t i = 0;
    for (simdjson::dom::element s : expected["stats"].get_array()) {
      SCOPED_TRACE(::testing::Message() << "sentence " << i);
      ExpectStats(per_segment[i], JsonNumbers(s));
      EXPECT_CLOSE(ChrfScore(per_segment[i], o), scores[i] / 100, tol);
      ++i;
    }
    EXPECT_EQ(i, hyps.size());
  }
  const bool is_default =
      o.char_order == 6 && o.beta == 2 && !o.whitespace && !o.eps_smoothing && !o.lowercase;
  if (is_default && mode == "corpus") {
    ASSERT_OK_AND_ASSIGN(MetricValue value, ScoreCorpus(ChrfMetric(), TextPredictions(hyps), refs));
    ASSERT_TRUE(value.value.has_value());
    EXPECT_CLOSE(*value.value, JsonNumber(expected["score"]) / 100, tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Chrf, ChrfVectorTest,
                         ::testing::ValuesIn(emar::testing::VectorLines("chrf.jsonl")),
                         emar::testing::VectorTestName);

TEST(ChrfTest, ManyDistinctCharactersStayExact) {
  // 3000 distinct CJK code points: ids need 12 bits, 6 × 12 > 64, so n-grams are interned.
  std::string hyp, ref;
  for (char32_t cp = 0x4E00; cp < 0x4E00 + 3000; ++cp) {
    AppendUtf8(cp, &hyp);
    AppendUtf8(cp + (cp % 3 == 0 ? 5000 : 0), &ref);
  }
  ChrfOptions o;
  std::vector<double> s(ChrfStatsWidth(o));
  ChrfSegmentStatistics(hyp, std::vector<std::string>{ref}, o, absl::MakeSpan(s));
  EXPECT_EQ(s[0], 3000);
  EXPECT_EQ(s[1], 3000);
  EXPECT_EQ(s[2], 2000);  // two of every three characters match
  EXPECT_EQ(s[5], 1000);  // bigrams avoiding the changed characters: one per triple
  EXPECT_EQ(s[8], 0);
}

TEST(ChrfTest, FirstStrictlyBestReferenceWins) {
  ChrfOptions o;
  std::vector<double> one(ChrfStatsWidth(o)), two(ChrfStatsWidth(o));
  ChrfSegmentStatistics("abcdef", std::vector<std::string>{"xyz", "abcdef", "abcdef "}, o,
                        absl::MakeSpan(one));
  ChrfSegmentStatistics("abcdef", std::vector<std::string>{"abcdef"}, o, absl::MakeSpan(two));
  EXPECT_EQ(one, two);
  EXPECT_DOUBLE_EQ(ChrfScore(one, o), 1.0);
}

TEST(ChrfMetricTest, ShapeAndWeights) {
  ChrfMetric m;
  EXPECT_EQ(m.stats_width(), 18u);
  EXPECT_EQ(m.signature(), "nrefs:var|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0");
  std::vector<double> a(18), b(18);
  ASSERT_OK(m.ScoreExample(Prediction{"the cat sat"}, Reference{{"a cat sat"}}, nullptr,
                           absl::MakeSpan(a)));
  ASSERT_OK(m.ScoreExample(Prediction{"dogs run"}, Reference{{"the dog runs"}}, nullptr,
                           absl::MakeSpan(b)));
  std::vector<double> weighted(18), duplicated(18);
  m.Accumulate(a, 2, 0, absl::MakeSpan(weighted));
  m.Accumulate(b, 1, 0, absl::MakeSpan(weighted));
  for (const auto* row : {&a, &b, &a}) m.Accumulate(*row, 1, 0, absl::MakeSpan(duplicated));
  EXPECT_DOUBLE_EQ(*m.Finalize(weighted, 0, 3).value, *m.Finalize(duplicated, 0, 3).value);
  std::vector<double> row(18);
  EXPECT_FALSE(m.ScoreExample(Prediction{"x"}, Reference{}, nullptr, absl::MakeSpan(row)).ok());
  EXPECT_FALSE(m.Finalize(std::vector<double>(18), 0, 0).value.has_value());
}

}  // namespace
}  // namespace emar
