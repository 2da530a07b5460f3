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
