#include "eval/stats/significance.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/portable_math.h"

namespace emar {
namespace {

bool Exceeds(double statistic, double observed) {
  return statistic > observed + kTieTolerance * std::max(std::fabs(observed), 1e-300);
}

// Shared core of both AR variants: accumulators start from the rows a and b agree on; `coin(r,
// j)` says whether pseudo-A takes a's row for the j-th differing row in trial r.
struct ArSetup {
  std::vector<double> common;     // accumulator of the agreeing rows
  std::vector<size_t> differing;  // example indices where a's and b's rows differ
  double observed_abs_diff = 0;
  bool observed_defined = false;
};

absl::StatusOr<ArSetup> PrepareAr(const ValidRows& valid, size_t a, size_t b) {
  const DatasetRows& rows = valid.rows();
  if (a >= rows.systems.size() || b >= rows.systems.size() || a == b) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad system pair (", a, ", ", b, ") of ", rows.systems.size()));
  }
  const Metric& metric = *rows.metric;
  const size_t width = metric.stats_width();
  ArSetup setup;
  setup.common.assign(metric.AccumulatorWidth(rows.num_labels), 0.0);
  for (size_t i = 0; i < rows.n; ++i) {
    absl::Span<const double> ra = rows.systems[a].subspan(i * width, width);
    absl::Span<const double> rb = rows.systems[b].subspan(i * width, width);
    if (std::memcmp(ra.data(), rb.data(), width * sizeof(double)) == 0) {
      metric.Accumulate(ra, 1.0, rows.num_labels, absl::MakeSpan(setup.common));
    } else {
      setup.differing.push_back(i);
    }
  }
  const std::vector<MetricValue> scores = CorpusScores(valid);
  if (scores[a].value.has_value() && scores[b].value.has_value()) {
    setup.observed_defined = true;
    setup.observed_abs_diff = std::fabs(*scores[b].value - *scores[a].value);
  }
  return setup;
}

// Runs one trial; returns |A - B| or nullopt.
template <typename Coin>
std::optional<double> ArTrial(const DatasetRows& rows, size_t a, size_t b, const ArSetup& setup,
                              Coin&& coin, std::vector<double>* acc_a, std::vector<double>* acc_b) {
  const Metric& metric = *rows.metric;
  const size_t width = metric.stats_width();
  *acc_a = setup.common;
  *acc_b = setup.common;
  for (size_t j = 0; j < setup.differing.size(); ++j) {
    const size_t i = setup.differing[j];
    absl::Span<const double> ra = rows.systems[a].subspan(i * width, width);
    absl::Span<const double> rb = rows.systems[b].subspan(i * width, width);
    const bool keep = coin(j, i);
    metric.Accumulate(keep ? ra : rb, 1.0, rows.num_labels, absl::MakeSpan(*acc_a));
    metric.Accumulate(keep ? rb : ra, 1.0, rows.num_labels, absl::MakeSpan(*acc_b));
  }
  const double n = static_cast<double>(rows.n);
  std::optional<double> sa = FinalizeScore(metric, *acc_a, rows.num_labels, n);
  std::optional<double> sb = FinalizeScore(metric, *acc_b, rows.num_labels, n);
  if (!sa.has_value() || !sb.has_value()) return std::nullopt;
  return std::fabs(*sa - *sb);
}

void Tally(const ArSetup& setup, std::optional<double> diff, PairedTestResult* test) {
  if (!diff.has_value()) {
    ++test->undefined_trials;
    return;
  }
  ++test->trials;
  if (Exceeds(*diff, setup.observed_abs_diff)) ++test->count_exceeding;
}

void FinishP(PairedTestResult* test, bool observed_defined) {
  if (observed_defined && test->trials > 0) {
    test->p =
        static_cast<double>(test->count_exceeding + 1) / static_cast<double>(test->trials + 1);
  }
}

double LogChoose(int64_t m, int64_t k) {
  if (k > 1000) return LogFactorial(m) - LogFactorial(k) - LogFactorial(m - k);
  double sum = 0;
  for (int64_t i = 1; i <= k; ++i) {
    sum += PortableLog(static_cast<double>(m - k + i) / static_cast<double>(i));
  }
  return sum;
}

}  // namespace

int64_t PercentileTailIndex(int64_t b, double confidence) {
  if (b <= 0) return 0;
  const double alpha = (1.0 - confidence) / 2.0;
  int64_t k = static_cast<int64_t>(std::floor(static_cast<double>(b) * alpha + 1e-9));
  return std::max<int64_t>(0, std::min(k, (b - 1) / 2));
}

PercentileBounds PercentileInterval(std::vector<double> values, double confidence) {
  std::sort(values.begin(), values.end());
  const int64_t b = static_cast<int64_t>(values.size());
  const int64_t k = PercentileTailIndex(b, confidence);
  return PercentileBounds{values[k], values[b - 1 - k]};
}

PairedTestResult PairedBootstrapPValue(double observed_diff,
                                       absl::Span<const double> resampled_diffs) {
  PairedTestResult test;
  test.observed_abs_diff = std::fabs(observed_diff);
  test.trials = static_cast<int64_t>(resampled_diffs.size());
  if (resampled_diffs.empty()) return test;
  double mean = 0;
  for (double d : resampled_diffs) mean += std::fabs(d);
  mean /= static_cast<double>(resampled_diffs.size());
  for (double d : resampled_diffs) {
    if (Exceeds(std::fabs(d) - mean, test.observed_abs_diff)) ++test.count_exceeding;
  }
  FinishP(&test, true);
  return test;
}

absl::StatusOr<ApproximateRandomizationResult> ApproximateRandomizationFromMasks(
    const ValidRows& valid, size_t a, size_t b, absl::Span<const std::vector<uint8_t>> masks) {
  const DatasetRows& rows = valid.rows();
  ASSIGN_OR_RETURN(ArSetup setup, PrepareAr(valid, a, b));
  ApproximateRandomizationResult result;
  result.test.observed_abs_diff = setup.observed_abs_diff;
  std::vector<double> acc_a, acc_b;
  for (size_t r = 0; r < masks.size(); ++r) {
    if (masks[r].size() != rows.n) {
      return absl::InvalidArgumentError(
          absl::StrCat("mask ", r, " has ", masks[r].size(), " entries, want n = ", rows.n));
    }
    const std::vector<uint8_t>& mask = masks[r];
    std::optional<double> diff = ArTrial(
        rows, a, b, setup, [&](size_t, size_t i) { return mask[i] != 0; }, &acc_a, &acc_b);
    result.trial_abs_diffs.push_back(diff);
    Tally(setup, diff, &result.test);
  }
  FinishP(&result.test, setup.observed_defined);
  return result;
}

absl::StatusOr<PairedTestResult> PairedApproximateRandomization(const ValidRows& valid, size_t a,
                                                                size_t b, int64_t trials,
                                                                uint64_t seed, uint64_t stream) {
  if (trials < 1) return absl::InvalidArgumentError("approximate randomization needs trials >= 1");
  const DatasetRows& rows = valid.rows();
  ASSIGN_OR_RETURN(ArSetup setup, PrepareAr(valid, a, b));
  PairedTestResult test;
  test.observed_abs_diff = setup.observed_abs_diff;
  std::vector<double> acc_a, acc_b;
  for (int64_t r = 0; r < trials; ++r) {
    DeterministicRng rng = DeterministicRng::ForStream(seed, {stream, static_cast<uint64_t>(r)});
    uint64_t bits = 0;
    auto coin = [&](size_t j, size_t) {
      if (j % 64 == 0) bits = rng.Next();
      return ((bits >> (j % 64)) & 1) != 0;
    };
    Tally(setup, ArTrial(rows, a, b, setup, coin, &acc_a, &acc_b), &test);
  }
  FinishP(&test, setup.observed_defined);
  return test;
}

double McNemarExactPValue(int64_t b, int64_t c) {
  const int64_t m = b + c;
  const int64_t k = std::min(b, c);
  if (m == 0 || 2 * k == m) return 1.0;
  // P(X <= k) for X ~ Binomial(m, 1/2): start at pmf(k), walk down with
  // pmf(j-1) = pmf(j) * j / (m - j + 1) until the terms no longer change the sum.
  double term = PortableExp(LogChoose(m, k) - static_cast<double>(m) * PortableLog(2.0));
  double cdf = term;
  for (int64_t j = k; j >= 1 && term > cdf * 1e-18; --j) {
    term *= static_cast<double>(j) / static_cast<double>(m - j + 1);
    cdf += term;
  }
  return std::min(1.0, 2.0 * cdf);
}

absl::StatusOr<McNemarResult> McNemarExact(absl::Span<const double> a, absl::Span<const double> b) {
  if (a.size() != b.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("McNemar: columns of ", a.size(), " and ", b.size(), " values"));
  }
  McNemarResult r;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] != 0 && a[i] != 1) || (b[i] != 0 && b[i] != 1)) {
      return absl::InvalidArgumentError(absl::StrCat("McNemar: example ", i, " is not 0/1"));
    }
    if (a[i] == 1 && b[i] == 0) ++r.b;
    if (a[i] == 0 && b[i] == 1) ++r.c;
  }
  r.p = McNemarExactPValue(r.b, r.c);
  return r;
}

std::vector<std::optional<double>> HolmBonferroni(absl::Span<const std::optional<double>> p) {
  std::vector<size_t> order;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].has_value()) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return *p[x] < *p[y]; });
  std::vector<std::optional<double>> adjusted(p.size());
  const double m = static_cast<double>(order.size());
  double running = 0;
  for (size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * *p[order[j]]));
    adjusted[order[j]] = running;
  }
  return adjusted;
}

}  // namespace emar
