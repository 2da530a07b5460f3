// Tests of eval/stats/slice_bootstrap.h. Expectations are computed here from the data (counts,
// the paired-difference variance), never copied from the function's output.
#include "eval/stats/slice_bootstrap.h"

#include <cmath>
#include <vector>

#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using stats_test::BinaryMeanMetric;
using stats_test::RatioMetric;

struct Data {
  std::vector<double> base, cand;
  std::vector<uint32_t> slice;
};

// Three slices of 0/1 outcomes with known discordant cells per slice: slice j has
// n_j items, of which `forgot_j` are (1, 0), `learned_j` are (0, 1), the rest (1, 1) or (0, 0).
Data ThreeSlices() {
  Data d;
  const int n[3] = {400, 300, 20};
  const int forgot[3] = {40, 10, 2};
  const int learned[3] = {10, 40, 1};
  for (uint32_t j = 0; j < 3; ++j) {
    for (int i = 0; i < n[j]; ++i) {
      double b = (i % 3 != 0) ? 1 : 0, c = b;
      if (i < forgot[j])
        b = 1, c = 0;
      else if (i < forgot[j] + learned[j])
        b = 0, c = 1;
      d.base.push_back(b);
      d.cand.push_back(c);
      d.slice.push_back(j);
    }
  }
  // Interleave the slices (row order must not matter for the point values).
  Data out;
  for (size_t k = 0; k < d.slice.size(); ++k) {
    const size_t i = (k * 7) % d.slice.size();  // 7 is coprime with 720
    out.base.push_back(d.base[i]);
    out.cand.push_back(d.cand[i]);
    out.slice.push_back(d.slice[i]);
  }
  return out;
}

TEST(SliceBootstrapTest, PointValuesAreEachSlicesOwnScores) {
  const Data d = ThreeSlices();
  BinaryMeanMetric metric;
  ASSERT_OK_AND_ASSIGN(ValidRows rows,
                       ValidRows::Validate({&metric, 0, d.base.size(), {d.base, d.cand}}, "t"));
  BootstrapOptions options;
  options.resamples = 200;
  ASSERT_OK_AND_ASSIGN(std::vector<SliceStats> s, RunSliceBootstrap(rows, d.slice, 3, options, 9));
  ASSERT_EQ(s.size(), 3u);
  for (uint32_t j = 0; j < 3; ++j) {
    double b = 0, c = 0, n = 0;
    for (size_t i = 0; i < d.slice.size(); ++i) {
      if (d.slice[i] != j) continue;
      b += d.base[i];
      c += d.cand[i];
      ++n;
    }
    EXPECT_EQ(s[j].n, static_cast<size_t>(n));
    EXPECT_DOUBLE_EQ(*s[j].systems[0].value, b / n);
    EXPECT_DOUBLE_EQ(*s[j].systems[1].value, c / n);
    EXPECT_NEAR(*s[j].delta[0].value, (c - b) / n, 1e-12);  // c/n - b/n
    ASSERT_TRUE(s[j].delta[0].ci.low && s[j].delta[0].ci.high);
    EXPECT_LE(*s[j].delta[0].ci.low, *s[j].delta[0].value);
    EXPECT_GE(*s[j].delta[0].ci.high, *s[j].delta[0].value);
  }
  // Slice 0 lost 30 of 400 net, slice 1 gained 30 of 300.
  EXPECT_NEAR(*s[0].delta[0].value, -30.0 / 400, 1e-12);
  EXPECT_NEAR(*s[1].delta[0].value, 30.0 / 300, 1e-12);
}

TEST(SliceBootstrapTest, StandardErrorsMatchThePairedVarianceOfEachSlice) {
  const Data d = ThreeSlices();
  BinaryMeanMetric metric;
  ASSERT_OK_AND_ASSIGN(ValidRows rows,
                       ValidRows::Validate({&metric, 0, d.base.size(), {d.base, d.cand}}, "t"));
  BootstrapOptions options;
  options.resamples = 4000;
  ASSERT_OK_AND_ASSIGN(std::vector<SliceStats> s, RunSliceBootstrap(rows, d.slice, 3, options, 9));
  for (uint32_t j = 0; j < 2; ++j) {
    // The sd of one item's paired difference over n_j items, divided by sqrt(n_j): the delta's
    // standard error (the slice size varies between resamples, which changes it by O(1/n)).
    double n = 0, sum = 0, sum2 = 0;
    for (size_t i = 0; i < d.slice.size(); ++i) {
      if (d.slice[i] != j) continue;
      const double diff = d.cand[i] - d.base[i];
      sum += diff;
      sum2 += diff * diff;
      ++n;
    }
    const double var = sum2 / n - (sum / n) * (sum / n);
    const double se = std::sqrt(var / n);
    ASSERT_TRUE(s[j].delta[0].ci.std_error);
    // 4000 resamples: the bootstrap SE's own relative error is about 1/sqrt(2 * 4000) = 1.1 %.
    EXPECT_NEAR(*s[j].delta[0].ci.std_error / se, 1.0, 0.06) << "slice " << j;
  }
}

TEST(SliceBootstrapTest, SameSeedSameBitsAndOtherStreamOtherDraws) {
  const Data d = ThreeSlices();
  BinaryMeanMetric metric;
  ASSERT_OK_AND_ASSIGN(ValidRows rows,
                       ValidRows::Validate({&metric, 0, d.base.size(), {d.base, d.cand}}, "t"));
  BootstrapOptions options;
  options.resamples = 300;
  ASSERT_OK_AND_ASSIGN(auto a, RunSliceBootstrap(rows, d.slice, 3, options, 4));
  ASSERT_OK_AND_ASSIGN(auto b, RunSliceBootstrap(rows, d.slice, 3, options, 4));
  ASSERT_OK_AND_ASSIGN(auto c, RunSliceBootstrap(rows, d.slice, 3, options, 5));
  EXPECT_EQ(*a[0].delta[0].ci.low, *b[0].delta[0].ci.low);
  EXPECT_EQ(*a[2].systems[1].ci.high, *b[2].systems[1].ci.high);
  EXPECT_NE(*a[0].delta[0].ci.std_error, *c[0].delta[0].ci.std_error);
}

TEST(SliceBootstrapTest, CorpusMetricsAreScoredPerSliceFromTheirSums) {
  // (correct, total) rows: a slice's value is its sum of correct over its sum of totals.
  RatioMetric metric;
  const std::vector<double> base = {1, 2, 3, 4, 0, 5, 2, 2};  // 4 items x 2 columns
  const std::vector<double> cand = {2, 2, 3, 4, 1, 5, 1, 2};
  const std::vector<uint32_t> slice = {0, 1, 0, 1};
  ASSERT_OK_AND_ASSIGN(ValidRows rows, ValidRows::Validate({&metric, 0, 4, {base, cand}}, "t"));
  BootstrapOptions options;
  options.resamples = 50;
  ASSERT_OK_AND_ASSIGN(auto s, RunSliceBootstrap(rows, slice, 2, options, 1));
  EXPECT_DOUBLE_EQ(*s[0].systems[0].value, (1.0 + 0) / (2 + 5));
  EXPECT_DOUBLE_EQ(*s[0].systems[1].value, (2.0 + 1) / (2 + 5));
  EXPECT_DOUBLE_EQ(*s[1].systems[0].value, (3.0 + 2) / (4 + 2));
}

TEST(SliceBootstrapTest, RefusesLabelsThatDoNotFitTheRows) {
  BinaryMeanMetric metric;
  const std::vector<double> base = {1, 0, 1}, cand = {1, 1, 1};
  ASSERT_OK_AND_ASSIGN(ValidRows rows, ValidRows::Validate({&metric, 0, 3, {base, cand}}, "t"));
  const std::vector<uint32_t> short_labels = {0, 1};
  EXPECT_THAT(RunSliceBootstrap(rows, short_labels, 2, {}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::vector<uint32_t> out_of_range = {0, 1, 2};
  EXPECT_THAT(RunSliceBootstrap(rows, out_of_range, 2, {}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace emar
