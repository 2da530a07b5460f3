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

absl::StatusOr<ProportionInterval> PairedDifferenceInterval(const PairedCounts& counts,
                                                            double confidence) {
  const int64_t a = counts.both, b = counts.only_base, c = counts.only_candidate,
                d = counts.neither;
  if (a < 0 || b < 0 || c < 0 || d < 0 || counts.n() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("paired interval: counts must be non-negative with n >= 1, got ", a, " ", b,
                     " ", c, " ", d));
  }
  const int64_t n = counts.n();
  const auto cand = WilsonInterval(a + c, n, confidence);
  if (!cand.ok()) return cand.status();
  const auto base = WilsonInterval(a + b, n, confidence);
  if (!base.ok()) return base.status();
  const double nn = static_cast<double>(n);
  const double p1 = static_cast<double>(a + c) / nn, p2 = static_cast<double>(a + b) / nn;
  const double theta = p1 - p2;
  const double margins = static_cast<double>(a + b) * static_cast<double>(c + d) *
                         static_cast<double>(a + c) * static_cast<double>(b + d);
  const double phi = margins > 0 ? (static_cast<double>(a) * static_cast<double>(d) -
                                    static_cast<double>(b) * static_cast<double>(c)) /
                                       std::sqrt(margins)
                                 : 0.0;
  const double dl1 = p1 - cand->low, du1 = cand->high - p1;
  const double dl2 = p2 - base->low, du2 = base->high - p2;
  const double low = theta - std::sqrt(std::max(0.0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2));
  const double high = theta + std::sqrt(std::max(0.0, du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2));
  return ProportionInterval{std::max(-1.0, low), std::min(1.0, high)};
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
