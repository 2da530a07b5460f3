// Significance tests and interval rules for paired comparisons, following sacrebleu 2.x
// significance.py (testdata/metrics/SPEC.md §(g)) and statsmodels' exact McNemar test.
//
//   PercentileBounds ci = PercentileInterval(resampled_scores, 0.95);
//   PairedTestResult pb = PairedBootstrapPValue(sys - base, resampled_sys_minus_base);
//   double p = McNemarExactPValue(/*b=*/10, /*c=*/3);          // 0.09228515625
//   std::vector<std::optional<double>> adj = HolmBonferroni({0.01, 0.04, 0.03});
//
// All functions are pure and thread-safe.
#ifndef EMAR_EVAL_STATS_SIGNIFICANCE_H_
#define EMAR_EVAL_STATS_SIGNIFICANCE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/stats/dataset_rows.h"

namespace emar {

// Percentile interval, sacrebleu's rule generalised to any confidence c:
//   sort the B values s[0..B-1]; k = floor(B * (1 - c) / 2)  (with a 1e-9 guard so exact
//   products such as 1000 * 0.025 are not rounded down); low = s[k], high = s[B - 1 - k].
// At c = 0.95 this is exactly sacrebleu's s[B // 40] and s[B - B // 40 - 1]. B must be >= 1.
struct PercentileBounds {
  double low = 0;
  double high = 0;
};
PercentileBounds PercentileInterval(std::vector<double> values, double confidence);
// The k above, exposed for reports and tests.
int64_t PercentileTailIndex(int64_t b, double confidence);

// Relative tolerance under which a trial statistic counts as tying the observed one (a tie
// never counts as exceeding, as in sacrebleu's strict '>' on exact arithmetic).
inline constexpr double kTieTolerance = 1e-12;

struct PairedTestResult {
  std::optional<double> p;  // nullopt when there are no (defined) trials
  int64_t count_exceeding = 0;
  int64_t trials = 0;            // trials used (defined ones)
  int64_t undefined_trials = 0;  // trials dropped because a score was undefined
  double observed_abs_diff = 0;
};

// sacrebleu --paired-bs, two-sided: d_r = |resampled_diffs[r]|, obs = |observed_diff|,
// p = (#{d_r - mean(d) > obs} + 1) / (B + 1).
PairedTestResult PairedBootstrapPValue(double observed_diff,
                                       absl::Span<const double> resampled_diffs);

// sacrebleu --paired-ar, two-sided, with given swap masks: masks[r][i] != 0 means pseudo-A takes
// system a's row i and pseudo-B system b's; 0 swaps them. p = (#{|A_r - B_r| > obs} + 1) /
// (R' + 1) over the R' trials where both pseudo-scores are defined. trial_abs_diffs[r] is
// nullopt for an undefined trial. INVALID_ARGUMENT on bad system indices or mask lengths.
struct ApproximateRandomizationResult {
  PairedTestResult test;
  std::vector<std::optional<double>> trial_abs_diffs;
};
absl::StatusOr<ApproximateRandomizationResult> ApproximateRandomizationFromMasks(
    const ValidRows& rows, size_t a, size_t b, absl::Span<const std::vector<uint8_t>> masks);
// The same with R = `trials` fair coins per example drawn from DeterministicRng::ForStream(seed,
// {stream, trial}). Rows where a and b are identical need no coin (either way they add the same
// to both sides), so the cost is trials x (rows that differ). trial_abs_diffs is left empty.
absl::StatusOr<PairedTestResult> PairedApproximateRandomization(const ValidRows& rows, size_t a,
                                                                size_t b, int64_t trials,
                                                                uint64_t seed, uint64_t stream);

// McNemar's exact test (statsmodels mcnemar(exact=True)): b = #(a right, b wrong),
// c = #(a wrong, b right), p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2)), 1 when b + c = 0.
// Computed with PortableLog/PortableExp: relative error ~1e-13 for b + c <= 1000, ~1e-8 at 1e6.
double McNemarExactPValue(int64_t b, int64_t c);
struct McNemarResult {
  int64_t b = 0;
  int64_t c = 0;
  double p = 1;
};
// From two 0/1 columns of equal length; INVALID_ARGUMENT otherwise.
absl::StatusOr<McNemarResult> McNemarExact(absl::Span<const double> a, absl::Span<const double> b);

// Holm-Bonferroni step-down adjustment over the defined p-values (m = their number): with the
// defined p sorted ascending (ties by position) p_(1) <= ... <= p_(m),
// adj_(i) = min(1, max_{j <= i} (m - j + 1) p_(j)). Undefined inputs stay undefined.
std::vector<std::optional<double>> HolmBonferroni(absl::Span<const std::optional<double>> p);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_SIGNIFICANCE_H_
