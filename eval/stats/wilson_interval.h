// Wilson score intervals for a 0/1 score (Wilson 1927), and the bound a gate on a small dataset
// uses: the more conservative of the bootstrap's and Wilson's.
//
//   ASSIGN_OR_RETURN(ProportionInterval w, WilsonInterval(/*successes=*/42, /*n=*/50, 0.95));
//   // w.low = 0.7149..., w.high = 0.9166... (statsmodels proportion_confint(method="wilson"))
//   std::optional<double> low = SmallSampleLowerBound(bootstrap_low, w, /*n=*/50);
//
// With few items the percentile bootstrap of a proportion is too narrow (it cannot see beyond
// the observed support: 50 of 50 right gives the interval [1, 1]); Wilson's interval keeps its
// coverage near nominal down to a handful of items. Pure and thread-safe.
#ifndef EMAR_EVAL_STATS_WILSON_INTERVAL_H_
#define EMAR_EVAL_STATS_WILSON_INTERVAL_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"

namespace emar {

struct ProportionInterval {
  double low = 0;
  double high = 0;
};

// The two-sided Wilson score interval at `confidence` for `successes` of `n`:
//   z = Φ⁻¹(1 - (1 - confidence) / 2), p = successes / n,
//   centre = (p + z²/2n) / (1 + z²/n),
//   half   = z / (1 + z²/n) · sqrt(p (1 - p) / n + z² / 4n²).
// INVALID_ARGUMENT unless 0 <= successes <= n, n >= 1 and 0 < confidence < 1.
absl::StatusOr<ProportionInterval> WilsonInterval(int64_t successes, int64_t n, double confidence);

// The paired counts of two 0/1 systems on the same n items: both right, only the first (base)
// right, only the second (candidate) right, neither.
struct PairedCounts {
  int64_t both = 0, only_base = 0, only_candidate = 0, neither = 0;
  int64_t n() const { return both + only_base + only_candidate + neither; }
};

// Newcombe's hybrid score interval for the paired difference p_candidate − p_base (Newcombe
// 1998, "Improved confidence intervals for the difference between binomial proportions based on
// paired data", Statistics in Medicine 17, method 10), built from the two Wilson intervals:
//   θ = (c − b)/n,  (l1, u1) Wilson of the candidate, (l2, u2) of the base,
//   φ = (a·d − b·c) / √((a+b)(c+d)(a+c)(b+d))  (0 when a margin is empty),
//   low  = θ − √((p1 − l1)² − 2φ (p1 − l1)(u2 − p2) + (u2 − p2)²),
//   high = θ + √((u1 − p1)² − 2φ (u1 − p1)(p2 − l2) + (p2 − l2)²),
// with a = both, b = only_base, c = only_candidate, d = neither, p1 / p2 the candidate's / base's
// proportion. INVALID_ARGUMENT for a negative count, n = 0 or a confidence outside (0, 1).
absl::StatusOr<ProportionInterval> PairedDifferenceInterval(const PairedCounts& counts,
                                                            double confidence);

// Datasets with fewer items than this get the conservative bound below by default.
inline constexpr int64_t kSmallDatasetItems = 100;

// The bound a gate compares on a 0/1 score: for n < small_items, the lower (more conservative)
// of the bootstrap's lower bound and Wilson's; otherwise the bootstrap's. An undefined bootstrap
// bound (nullopt) stays undefined: a gate on it fails whatever Wilson says.
std::optional<double> SmallSampleLowerBound(std::optional<double> bootstrap_low,
                                            const ProportionInterval& wilson, int64_t n,
                                            int64_t small_items = kSmallDatasetItems);
// The same for an upper bound (a lower-is-better gate): the higher of the two.
std::optional<double> SmallSampleUpperBound(std::optional<double> bootstrap_high,
                                            const ProportionInterval& wilson, int64_t n,
                                            int64_t small_items = kSmallDatasetItems);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_WILSON_INTERVAL_H_
