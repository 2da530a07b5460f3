#include "eval/stats/power.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/stats/normal_quantile.h"

namespace emar {
namespace {

bool Finite(double x) { return std::isfinite(x); }

// ceil(x) with a relative guard, so that 100 computed as 100.00000000001 stays 100.
int64_t CeilItems(double x) {
  const double c = std::ceil(x - 1e-9 * std::fabs(x));
  return c < 1 ? 1 : static_cast<int64_t>(c);
}

double CriticalA(const PowerOptions& o) {
  return NormalQuantile(o.sides == Sidedness::kTwoSided ? 1 - o.alpha / 2 : 1 - o.alpha);
}

absl::Status CheckOptions(const PowerOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("alpha must be in (0, 1), got ", o.alpha));
  }
  if (!(o.power > 0 && o.power < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("power must be in (0, 1), got ", o.power));
  }
  return absl::OkStatus();
}

absl::Status CheckDiscordance(double discordance, double delta) {
  if (!(discordance > 0 && discordance <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "discordance (the share of items the two models disagree on) must be in (0, 1], got ",
        discordance));
  }
  if (!Finite(delta) || std::fabs(delta) > discordance) {
    return absl::InvalidArgumentError(absl::StrCat("a difference of ", delta,
                                                   " needs a discordance of at least |", delta,
                                                   "|, got ", discordance));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> CriticalSum(const PowerOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  return CriticalA(options) + NormalQuantile(options.power);
}

absl::StatusOr<double> MinimumDetectableEffect(double std_error, const PowerOptions& options) {
  if (!(Finite(std_error) && std_error >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("standard error must be finite and >= 0, got ", std_error));
  }
  ASSIGN_OR_RETURN(const double z, CriticalSum(options));
  return z * std_error;
}

absl::StatusOr<int64_t> ItemsNeeded(double sd, double delta, const PowerOptions& options) {
  if (!(Finite(sd) && sd >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("standard deviation must be finite and >= 0, got ", sd));
  }
  if (!Finite(delta) || delta == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the difference to detect must be finite and non-zero, got ", delta));
  }
  ASSIGN_OR_RETURN(const double z, CriticalSum(options));
  const double root_n = z * sd / std::fabs(delta);
  return CeilItems(root_n * root_n);
}

absl::StatusOr<double> McNemarMinimumDetectableEffect(double discordance, int64_t n,
                                                      const PowerOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  RETURN_IF_ERROR(CheckDiscordance(discordance, 0));
  if (n < 1) return absl::InvalidArgumentError(absl::StrCat("items must be >= 1, got ", n));
  const double za = CriticalA(options);
  const double zb = NormalQuantile(options.power);
  const double nn = static_cast<double>(n);
  // √n δ − z_a √ψ = z_b √(ψ − δ²), squared: (n + z_b²) δ² − 2 z_a √(nψ) δ + ψ (z_a² − z_b²) = 0.
  // The root whose sign of √n δ − z_a √ψ is that of z_b:
  //   δ = (z_a √(nψ) + z_b √(ψ (n + z_b² − z_a²))) / (n + z_b²).
  const double inner = discordance * (nn + zb * zb - za * za);
  if (inner < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(n, " items are too few for any effect at alpha ", options.alpha));
  }
  return (za * std::sqrt(nn * discordance) + zb * std::sqrt(inner)) / (nn + zb * zb);
}

absl::StatusOr<double> McNemarItems(double discordance, double delta, const PowerOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  RETURN_IF_ERROR(CheckDiscordance(discordance, delta));
  if (delta == 0) {
    return absl::InvalidArgumentError("the difference to detect must be non-zero");
  }
  const double za = CriticalA(options);
  const double zb = NormalQuantile(options.power);
  const double root_n =
      (za * std::sqrt(discordance) + zb * std::sqrt(discordance - delta * delta)) /
      std::fabs(delta);
  return root_n * root_n;
}

absl::StatusOr<int64_t> McNemarItemsNeeded(double discordance, double delta,
                                           const PowerOptions& options) {
  ASSIGN_OR_RETURN(const double items, McNemarItems(discordance, delta, options));
  return CeilItems(items);
}

absl::StatusOr<BinaryPlan> PlanBinary(double baseline, double margin,
                                      std::optional<double> discordance,
                                      const PowerOptions& options) {
  if (!(baseline >= 0 && baseline <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("baseline must be a fraction in [0, 1], got ", baseline));
  }
  const double p1 = baseline + margin;
  if (!Finite(margin) || margin == 0 || p1 < 0 || p1 > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "margin must be non-zero with baseline + margin in [0, 1], got ", baseline, " + ", margin));
  }
  BinaryPlan plan;
  plan.baseline = baseline;
  plan.margin = margin;
  plan.discordance_assumed = !discordance.has_value();
  plan.discordance = discordance ? *discordance : baseline * (1 - p1) + p1 * (1 - baseline);
  plan.only_base_right = (plan.discordance - margin) / 2;
  plan.only_candidate_right = (plan.discordance + margin) / 2;
  RETURN_IF_ERROR(CheckDiscordance(plan.discordance, margin));
  // Both right = p0 − p10 and neither right = 1 − p0 − p01 must not be negative.
  const double slack = 1e-12;
  if (baseline - plan.only_base_right < -slack ||
      1 - baseline - plan.only_candidate_right < -slack) {
    return absl::InvalidArgumentError(absl::StrCat(
        "discordance ", plan.discordance, " is impossible with baseline ", baseline, " and margin ",
        margin, ": at most ", std::min(2 * baseline + margin, 2 * (1 - baseline) - margin)));
  }
  ASSIGN_OR_RETURN(plan.items, McNemarItemsNeeded(plan.discordance, margin, options));
  return plan;
}

}  // namespace emar
