// The standard normal distribution's quantile function, Φ⁻¹, for the interval and power
// formulas (Wilson intervals, minimum detectable effects, items needed).
//
//   double z = NormalQuantile(0.975);   // 1.959963984540054
//
// Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988), relative error about 1e-16,
// built from + - * / and sqrt (IEEE-exact) and PortableLog, so every machine gets the same bits.
// Pure and thread-safe.
#ifndef EMAR_EVAL_STATS_NORMAL_QUANTILE_H_
#define EMAR_EVAL_STATS_NORMAL_QUANTILE_H_

namespace emar {

// Φ⁻¹(p) for 0 < p < 1: -inf at 0, +inf at 1, NaN outside [0, 1] or for NaN.
double NormalQuantile(double p);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_NORMAL_QUANTILE_H_
