// Power analysis for a paired delta (candidate − base on the same items): the minimum detectable
// effect (MDE) of an evaluation that was run, and the items a planned one needs.
//
//   PowerOptions two_sided;                          // α = 0.05, power = 0.8, two-sided
//   // 0/1 metrics: from McNemar's discordant proportion ψ = (b + c) / n of the run
//   ASSIGN_OR_RETURN(double mde, McNemarMinimumDetectableEffect(/*discordance=*/0.12, 2000,
//   two_sided));
//   // other metrics: from the bootstrap standard error of the delta
//   ASSIGN_OR_RETURN(double mde2, MinimumDetectableEffect(/*std_error=*/0.008, two_sided));
//   // planning: items for a +0.03 margin over a 0.70 baseline (discordance assumed, see
//   PlanBinary) ASSIGN_OR_RETURN(BinaryPlan plan, PlanBinary(0.70, 0.03, std::nullopt, two_sided));
//
// All formulas are normal approximations (Miller 2024, "Adding Error Bars to Evals"; Card et al.
// 2020, "With Little Power Comes Great Responsibility"). With z_a = Φ⁻¹(1 − α/2) two-sided or
// Φ⁻¹(1 − α) one-sided, and z_b = Φ⁻¹(power):
//  * from a standard error:  MDE = (z_a + z_b) · SE;  items = ((z_a + z_b) · sd / δ)² for a
//    per-item standard deviation sd of the paired difference.
//  * McNemar (Connor 1987), per-item difference d ∈ {−1, 0, 1} with P(d ≠ 0) = ψ and mean δ:
//    its standard deviation is √ψ under H0 (δ = 0) and √(ψ − δ²) under the alternative, so
//      items = (z_a √ψ + z_b √(ψ − δ²))² / δ²,
//    and the MDE for n items is the δ that solves √n δ = z_a √ψ + z_b √(ψ − δ²) (a quadratic).
//    These are statsmodels' normal_sample_size_one_tail / normal_power_het with
//    std_null = √ψ and std_alternative = √(ψ − δ²).
// One-sided options are for non-inferiority gates: a gate "lower bound of dB >= −m" at a
// two-sided confidence c is a one-sided test at α = (1 − c)/2, and the one-sided MDE is the
// smallest margin m that the gate passes with the given power when the true delta is 0. A gate
// whose margin is below it is underpowered.
//
// Pure and thread-safe; every result is deterministic (NormalQuantile is).
#ifndef EMAR_EVAL_STATS_POWER_H_
#define EMAR_EVAL_STATS_POWER_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"

namespace emar {

enum class Sidedness { kTwoSided, kOneSided };

struct PowerOptions {
  double alpha = 0.05;  // significance level, in (0, 1)
  double power = 0.8;   // in (0, 1)
  Sidedness sides = Sidedness::kTwoSided;
};

// z_a + z_b of the options; INVALID_ARGUMENT unless alpha and power are in (0, 1).
absl::StatusOr<double> CriticalSum(const PowerOptions& options);

// (z_a + z_b) · std_error. INVALID_ARGUMENT unless std_error is finite and >= 0.
absl::StatusOr<double> MinimumDetectableEffect(double std_error, const PowerOptions& options);

// Items for a mean paired difference `delta` when one item's difference has standard deviation
// `sd`: ceil(((z_a + z_b) · sd / delta)²), at least 1. INVALID_ARGUMENT unless sd >= 0 finite
// and delta != 0 finite.
absl::StatusOr<int64_t> ItemsNeeded(double sd, double delta, const PowerOptions& options);

// McNemar (Connor 1987) as above. `discordance` ψ in (0, 1]; |delta| <= ψ; n >= 1. An MDE
// above ψ means that no difference is detectable with so few items at that discordance.
absl::StatusOr<double> McNemarMinimumDetectableEffect(double discordance, int64_t n,
                                                      const PowerOptions& options);
// Unrounded items; McNemarItemsNeeded rounds up.
absl::StatusOr<double> McNemarItems(double discordance, double delta, const PowerOptions& options);
absl::StatusOr<int64_t> McNemarItemsNeeded(double discordance, double delta,
                                           const PowerOptions& options);

// A planned 0/1 comparison: items for a candidate `margin` above (or, negative, below) the base
// model's `baseline` accuracy. The discordance ψ = P(the two models disagree on an item) decides
// the answer; when not given it is assumed that the two models' errors are independent,
//   ψ = p0 (1 − p1) + p1 (1 − p0),  p1 = p0 + margin,
// which overstates ψ (and so the items) for a fine-tune of the base, whose errors overlap.
// A given ψ must be feasible: |margin| <= ψ and the four joint cells (both right, only base,
// only candidate, neither) non-negative.
struct BinaryPlan {
  double baseline = 0;
  double margin = 0;
  double discordance = 0;
  bool discordance_assumed = false;  // true when ψ came from the independence assumption
  double only_base_right = 0;        // p10 = (ψ − margin) / 2
  double only_candidate_right = 0;   // p01 = (ψ + margin) / 2
  int64_t items = 0;
};
absl::StatusOr<BinaryPlan> PlanBinary(double baseline, double margin,
                                      std::optional<double> discordance,
                                      const PowerOptions& options);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_POWER_H_
