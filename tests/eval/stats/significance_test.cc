// Tests of eval/stats/significance.h, driven by every line of
// testdata/metrics/significance.jsonl (stored index matrices and swap masks make the
// sacrebleu procedures exact) plus hand-computed Holm-Bonferroni and McNemar values.
#include "eval/stats/significance.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "eval/stats/bootstrap_resampler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/stats/test_metrics.h"
#include "tests/eval/stats/test_vectors.h"

namespace emar {
namespace {

using stats_test::AccuracyRows;
using stats_test::BinaryMeanMetric;
using stats_test::BleuRows;
using stats_test::Doubles;
using stats_test::IndexMatrix;
using stats_test::MaskMatrix;
using stats_test::Num;
using stats_test::SignificanceVectors;
using stats_test::TestBleuMetric;

// README tolerance: relative 1e-6 with an absolute floor of 1e-9 (ours are far tighter, but
// sacrebleu-derived BLEU values went through Python's math).
void ExpectClose(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, std::max(1e-9, 1e-6 * std::fabs(want))) << what;
}

ValidRows RowsOf(const Metric* metric, const std::vector<std::vector<double>>& systems) {
  DatasetRows rows;
  rows.metric = metric;
  rows.n = systems[0].size() / metric->stats_width();
  for (const std::vector<double>& s : systems) rows.systems.push_back(s);
  return stats_test::MustValidate(std::move(rows));
}

class SignificanceVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = SignificanceVectors::Load();
    ASSERT_OK(loaded.status());
    vectors_ = std::make_unique<SignificanceVectors>(std::move(*loaded));
  }

  // Rows for the line's metric: accuracy correctness columns or TestBleuMetric rows.
  std::vector<std::vector<double>> SystemsOf(simdjson::dom::element line, const Metric** metric) {
    std::string_view name;
    if (line["params"]["metric"].get(name) == simdjson::SUCCESS && name.find("bleu") != name.npos) {
      *metric = &bleu_;
      return BleuRows(line);
    }
    *metric = &binary_;
    return AccuracyRows(line);
  }

  void CheckMcNemar(simdjson::dom::element line) {
    std::vector<std::vector<double>> sys = AccuracyRows(line);
    ASSERT_OK_AND_ASSIGN(McNemarResult m, McNemarExact(sys[0], sys[1]));
    simdjson::dom::element want = line["expected"];
    EXPECT_EQ(m.b, Num(want["b_a_correct_b_wrong"]));
    EXPECT_EQ(m.c, Num(want["c_a_wrong_b_correct"]));
    EXPECT_EQ(sys[0].size(), Num(want["n"]));
    EXPECT_NEAR(m.p, Num(want["p_value"]), 1e-12 * Num(want["p_value"]));
    const std::vector<MetricValue> acc = CorpusScores(RowsOf(&binary_, sys));
    ExpectClose(*acc[0].value, Num(want["accuracy_a"]), "accuracy_a");
    ExpectClose(*acc[1].value, Num(want["accuracy_b"]), "accuracy_b");
  }

  void CheckBootstrapCiExplicit(simdjson::dom::element line) {
    const Metric* metric = nullptr;
    std::vector<std::vector<double>> sys = SystemsOf(line, &metric);
    ASSERT_FALSE(sys.empty());
    const auto indices = IndexMatrix(line["params"]["indices"]);
    ASSERT_OK_AND_ASSIGN(ResampledScores scores, ScoresFromIndices(RowsOf(metric, sys), indices));
    simdjson::dom::element want = line["expected"];
    const std::vector<double> want_scores = Doubles(want["resample_scores"]);
    ASSERT_EQ(scores.resamples, static_cast<int64_t>(want_scores.size()));
    std::vector<double> got;
    double mean = 0;
    for (int64_t r = 0; r < scores.resamples; ++r) {
      got.push_back(*scores.value(r, 0));
      ExpectClose(got.back(), want_scores[r], "resample " + std::to_string(r));
      mean += got.back();
    }
    ExpectClose(mean / got.size(), Num(want["mean"]), "mean");
    PercentileBounds ci = PercentileInterval(got, 0.95);
    ExpectClose(ci.low, Num(want["sacrebleu_lower"]), "sacrebleu_lower");
    ExpectClose(ci.high, Num(want["sacrebleu_upper"]), "sacrebleu_upper");
    ExpectClose((ci.high - ci.low) / 2, Num(want["sacrebleu_ci_halfwidth"]), "halfwidth");
  }

  void CheckBootstrapCiLimit(simdjson::dom::element line) {
    std::vector<std::vector<double>> sys = AccuracyRows(line);
    simdjson::dom::element want = line["expected"];
    const double tol = Num(line["params"]["tolerance"]);
    const int64_t resamples = 2 * static_cast<int64_t>(Num(line["params"]["min_resamples"]));
    for (ResamplingMethod method :
         {ResamplingMethod::kJointCells, ResamplingMethod::kExampleDraws}) {
      SCOPED_TRACE(std::string(ResamplingMethodName(method)));
      ASSERT_OK_AND_ASSIGN(BootstrapResampler resampler,
                           BootstrapResampler::Create(RowsOf(&binary_, sys), method));
      ASSERT_OK_AND_ASSIGN(ResampledScores scores, resampler.Run(resamples, 12345, 0, 0));
      ExpectClose(*scores.point[0], Num(want["accuracy"]), "accuracy");
      std::vector<double> v;
      double mean = 0;
      for (int64_t r = 0; r < resamples; ++r) {
        v.push_back(*scores.value(r, 0));
        mean += v.back();
      }
      PercentileBounds ci = PercentileInterval(v, 0.95);
      EXPECT_NEAR(ci.low, Num(want["ci_lower_limit"]), tol);
      EXPECT_NEAR(ci.high, Num(want["ci_upper_limit"]), tol);
      EXPECT_NEAR(mean / resamples, Num(want["bootstrap_mean_limit"]), tol);
    }
  }

  void CheckPairedBootstrapExplicit(simdjson::dom::element line) {
    const Metric* metric = nullptr;
    std::vector<std::vector<double>> sys = SystemsOf(line, &metric);
    ASSERT_EQ(sys.size(), 2u);
    const auto indices = IndexMatrix(line["params"]["indices"]);
    ASSERT_OK_AND_ASSIGN(ResampledScores scores, ScoresFromIndices(RowsOf(metric, sys), indices));
    simdjson::dom::element want = line["expected"];
    ExpectClose(*scores.point[0], Num(want["baseline_score"]), "baseline");
    ExpectClose(*scores.point[1], Num(want["system_score"]), "system");
    const std::vector<double> want_diffs = Doubles(want["resample_abs_diffs"]);
    std::vector<double> diffs, sys_scores;
    for (int64_t r = 0; r < scores.resamples; ++r) {
      diffs.push_back(*scores.value(r, 1) - *scores.value(r, 0));
      sys_scores.push_back(*scores.value(r, 1));
      ExpectClose(std::fabs(diffs.back()), want_diffs[r], "diff " + std::to_string(r));
    }
    PairedTestResult t = PairedBootstrapPValue(*scores.point[1] - *scores.point[0], diffs);
    ExpectClose(t.observed_abs_diff, Num(want["observed_abs_diff"]), "observed");
    EXPECT_EQ(t.count_exceeding, Num(want["count_exceeding"]));
    ExpectClose(*t.p, Num(want["p_value"]), "p");
    double mean_want = 0;
    if (want["system_resample_mean"].get(mean_want) == simdjson::SUCCESS) {
      double mean = 0;
      for (double s : sys_scores) mean += s;
      ExpectClose(mean / sys_scores.size(), mean_want, "system_resample_mean");
      PercentileBounds ci = PercentileInterval(sys_scores, 0.95);
      ExpectClose((ci.high - ci.low) / 2, Num(want["system_ci_halfwidth"]), "halfwidth");
    }
  }

  void CheckPairedBootstrapLimit(simdjson::dom::element line) {
    std::vector<std::vector<double>> sys = AccuracyRows(line);
    simdjson::dom::element want = line["expected"];
    const int64_t resamples = static_cast<int64_t>(Num(line["params"]["min_resamples"]));
    for (ResamplingMethod method :
         {ResamplingMethod::kJointCells, ResamplingMethod::kExampleDraws}) {
      SCOPED_TRACE(std::string(ResamplingMethodName(method)));
      ASSERT_OK_AND_ASSIGN(BootstrapResampler resampler,
                           BootstrapResampler::Create(RowsOf(&binary_, sys), method));
      ASSERT_OK_AND_ASSIGN(ResampledScores scores, resampler.Run(resamples, 777, 0, 0));
      ExpectClose(*scores.point[0], Num(want["baseline_score"]), "baseline");
      ExpectClose(*scores.point[1], Num(want["system_score"]), "system");
      std::vector<double> diffs;
      double mean_abs = 0;
      for (int64_t r = 0; r < resamples; ++r) {
        diffs.push_back(*scores.value(r, 1) - *scores.value(r, 0));
        mean_abs += std::fabs(diffs.back());
      }
      PairedTestResult t = PairedBootstrapPValue(*scores.point[1] - *scores.point[0], diffs);
      EXPECT_NEAR(*t.p, Num(want["p_value_limit"]), Num(line["params"]["tolerance"]));
      // Monte Carlo standard error of the mean |D*| here is about 2e-4.
      EXPECT_NEAR(mean_abs / resamples, Num(want["expected_abs_resampled_diff"]), 1e-3);
    }
  }

  void CheckArExplicit(simdjson::dom::element line) {
    const Metric* metric = nullptr;
    std::vector<std::vector<double>> sys = SystemsOf(line, &metric);
    ASSERT_EQ(sys.size(), 2u);
    const auto masks = MaskMatrix(line["params"]["masks"]);
    ASSERT_OK_AND_ASSIGN(ApproximateRandomizationResult ar,
                         ApproximateRandomizationFromMasks(RowsOf(metric, sys), 0, 1, masks));
    simdjson::dom::element want = line["expected"];
    ExpectClose(ar.test.observed_abs_diff, Num(want["observed_abs_diff"]), "observed");
    const std::vector<double> want_diffs = Doubles(want["trial_abs_diffs"]);
    ASSERT_EQ(ar.trial_abs_diffs.size(), want_diffs.size());
    int64_t ties = 0;
    for (size_t r = 0; r < want_diffs.size(); ++r) {
      ExpectClose(*ar.trial_abs_diffs[r], want_diffs[r], "trial " + std::to_string(r));
      if (*ar.trial_abs_diffs[r] == ar.test.observed_abs_diff) ++ties;
    }
    EXPECT_EQ(ar.test.count_exceeding, Num(want["count_exceeding"]));
    ExpectClose(*ar.test.p, Num(want["p_value"]), "p");
    simdjson::dom::element want_ties;
    if (want["exact_ties"].get(want_ties) == simdjson::SUCCESS) {
      EXPECT_EQ(ties, Num(want_ties));
    }
  }

  void CheckArExhaustive(simdjson::dom::element line) {
    std::vector<std::vector<double>> sys = AccuracyRows(line);
    const ValidRows rows = RowsOf(&binary_, sys);
    std::vector<std::vector<uint8_t>> masks;
    for (uint32_t bits = 0; bits < (1u << rows.n()); ++bits) {
      std::vector<uint8_t> m(rows.n());
      for (size_t i = 0; i < rows.n(); ++i) m[i] = (bits >> i) & 1;
      masks.push_back(std::move(m));
    }
    ASSERT_OK_AND_ASSIGN(ApproximateRandomizationResult ar,
                         ApproximateRandomizationFromMasks(rows, 0, 1, masks));
    simdjson::dom::element want = line["expected"];
    EXPECT_EQ(static_cast<double>(masks.size()), Num(want["n_assignments"]));
    ExpectClose(ar.test.observed_abs_diff, Num(want["observed_abs_diff"]), "observed");
    EXPECT_EQ(ar.test.count_exceeding, Num(want["count_strictly_greater"]));
    int64_t greater_equal = 0;
    for (const std::optional<double>& d : ar.trial_abs_diffs) {
      if (*d >= ar.test.observed_abs_diff) ++greater_equal;
    }
    EXPECT_EQ(greater_equal, Num(want["count_greater_equal"]));
    // Sampled AR with our generator lands within the line's tolerance hint.
    const double f = Num(want["frac_strictly_greater"]);
    const int64_t trials = 10000;
    ASSERT_OK_AND_ASSIGN(PairedTestResult sampled,
                         PairedApproximateRandomization(rows, 0, 1, trials, 12345, 0));
    EXPECT_NEAR(*sampled.p, f, 4 * std::sqrt(f * (1 - f) / trials) + 1.0 / trials);
  }

  BinaryMeanMetric binary_;
  TestBleuMetric bleu_;
  std::unique_ptr<SignificanceVectors> vectors_;
};

TEST_F(SignificanceVectorsTest, EveryLinePasses) {
  ASSERT_EQ(vectors_->lines().size(), 17u);
  std::set<std::string> checked;
  for (const simdjson::dom::element& line : vectors_->lines()) {
    const std::string name = SignificanceVectors::Name(line);
    SCOPED_TRACE(name);
    const std::string test(line["params"]["test"].get_string().value());
    const bool limit = name.find("ideal_limit") != std::string::npos;
    if (test == "mcnemar_exact") {
      CheckMcNemar(line);
    } else if (test == "bootstrap_ci") {
      limit ? CheckBootstrapCiLimit(line) : CheckBootstrapCiExplicit(line);
    } else if (test == "paired_bootstrap") {
      limit ? CheckPairedBootstrapLimit(line) : CheckPairedBootstrapExplicit(line);
    } else if (test == "paired_approximate_randomization") {
      CheckArExplicit(line);
    } else if (test == "paired_approximate_randomization_exhaustive") {
      CheckArExhaustive(line);
    } else {
      ADD_FAILURE() << "unknown test " << test;
      continue;
    }
    checked.insert(name);
  }
  EXPECT_EQ(checked.size(), 17u);
}

TEST(PercentileTest, TailIndexMatchesSacrebleuAt95) {
  for (int64_t b : {1, 2, 39, 40, 41, 79, 80, 999, 1000, 1001, 10000}) {
    EXPECT_EQ(PercentileTailIndex(b, 0.95), std::min(b / 40, (b - 1) / 2)) << b;
  }
  EXPECT_EQ(PercentileTailIndex(1000, 0.90), 50);
  EXPECT_EQ(PercentileTailIndex(1000, 0.99), 5);
  EXPECT_EQ(PercentileTailIndex(200, 0.80), 20);
}

TEST(PercentileTest, PicksSortedElements) {
  std::vector<double> v;
  for (int i = 0; i < 40; ++i) v.push_back(39 - i);  // 39..0
  PercentileBounds b = PercentileInterval(v, 0.95);
  EXPECT_EQ(b.low, 1);    // s[40 // 40]
  EXPECT_EQ(b.high, 38);  // s[40 - 1 - 1]
}

TEST(PairedBootstrapPValueTest, CountsStrictlyGreaterAfterCentering) {
  // |d| = 1, 2, 3, 6 -> mean 3; centred 2 -2 0 3 -1 ... obs 1: only 6 - 3 = 3 > 1.
  PairedTestResult t = PairedBootstrapPValue(-1.0, {1.0, -2.0, 3.0, 6.0});
  EXPECT_EQ(t.count_exceeding, 1);
  EXPECT_DOUBLE_EQ(*t.p, 2.0 / 5.0);
  EXPECT_FALSE(PairedBootstrapPValue(1.0, {}).p.has_value());
}

TEST(McNemarTest, MatchesDirectBinomialSum) {
  for (auto [b, c] : std::vector<std::pair<int64_t, int64_t>>{
           {600, 400}, {3, 30}, {4800, 5200}, {0, 2000}, {7, 7}}) {
    const int64_t m = b + c, k = std::min(b, c);
    double cdf = 0;
    for (int64_t j = 0; j <= k; ++j) {
      cdf += std::exp(std::lgamma(m + 1.0) - std::lgamma(j + 1.0) - std::lgamma(m - j + 1.0) -
                      m * std::log(2.0));
    }
    const double want = std::min(1.0, 2 * cdf);
    EXPECT_NEAR(McNemarExactPValue(b, c), want, 1e-8 * want + 1e-300) << b << " " << c;
  }
  EXPECT_EQ(McNemarExactPValue(0, 0), 1.0);
}

TEST(McNemarTest, RejectsNonBinaryColumns) {
  EXPECT_THAT(McNemarExact({1, 0.5}, {1, 0}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("0/1")));
  EXPECT_THAT(McNemarExact({1}, {1, 0}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(HolmBonferroniTest, HandComputed) {
  // Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.06, 0.04*1) = 0.06.
  std::vector<std::optional<double>> adj = HolmBonferroni({0.01, 0.04, std::nullopt, 0.03, 0.005});
  ASSERT_EQ(adj.size(), 5u);
  EXPECT_DOUBLE_EQ(*adj[0], 0.03);
  EXPECT_DOUBLE_EQ(*adj[1], 0.06);
  EXPECT_FALSE(adj[2].has_value());
  EXPECT_DOUBLE_EQ(*adj[3], 0.06);
  EXPECT_DOUBLE_EQ(*adj[4], 0.02);
  // Capped at 1 and monotone.
  adj = HolmBonferroni({0.6, 0.5});
  EXPECT_EQ(*adj[0], 1.0);
  EXPECT_EQ(*adj[1], 1.0);
  EXPECT_TRUE(HolmBonferroni({}).empty());
}

TEST(ApproximateRandomizationTest, RejectsBadInput) {
  BinaryMeanMetric metric;
  std::vector<double> a = {1, 0, 1}, b = {0, 0, 1};
  const ValidRows rows = stats_test::MustValidate(DatasetRows{&metric, 0, 3, {a, b}});
  EXPECT_THAT(ApproximateRandomizationFromMasks(rows, 0, 0, {}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("pair")));
  EXPECT_THAT(ApproximateRandomizationFromMasks(rows, 0, 1, {{1, 0}}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("mask")));
  EXPECT_THAT(PairedApproximateRandomization(rows, 0, 1, 0, 1, 0),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

}  // namespace
}  // namespace emar
