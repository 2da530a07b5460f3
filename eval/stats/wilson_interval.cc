#include "eval/stats/wilson_interval.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eval/stats/normal_quantile.h"

namespace emar {

absl::StatusOr<ProportionInterval> WilsonInterval(int64_t successes, int64_t n, double confidence) {
  if (n < 1 || successes < 0 || successes > n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Wilson interval: need 0 <= successes <= n and n >= 1, got ", successes, " of ", n));
  }
  if (!(confidence > 0 && confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Wilson interval: confidence must be in (0, 1), got ", confidence));
  }
  const double z = NormalQuantile(1 - (1 - confidence) / 2);
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double centre = (p + z2 / (2 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  // Rounding can push an endpoint a hair past [0, 1] when p is 0 or 1.
  return ProportionInterval{std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::optional<double> SmallSampleLowerBound(std::optional<double> bootstrap_low,
                                            const ProportionInterval& wilson, int64_t n,
                                            int64_t small_items) {
  if (!bootstrap_low || n >= small_items) return bootstrap_low;
  return std::min(*bootstrap_low, wilson.low);
}

std::optional<double> SmallSampleUpperBound(std::optional<double> bootstrap_high,
                                            const ProportionInterval& wilson, int64_t n,
                                            int64_t small_items) {
  if (!bootstrap_high || n >= small_items) return bootstrap_high;
  return std::max(*bootstrap_high, wilson.high);
}

}  // namespace emar
