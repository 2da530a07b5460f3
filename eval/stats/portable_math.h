// Logarithm and exponential built only from IEEE-754 basic operations (+ - * / and the exact
// frexp/ldexp), so every machine computes the same bits. The bootstrap's binomial sampler and
// McNemar's test use these instead of <cmath>'s log/exp, whose last bit differs between libm
// versions and CPU code paths (glibc picks an FMA variant at run time); that would break the
// "same seed, same report to the last digit" promise (docs/statistics.md).
//
//   double l = PortableLog(0.25);    // -1.3862943611198906 (within 1 ulp of the true value)
//   double e = PortableExp(l);       // 0.25 (within 2 ulp)
//
// Accuracy: about 1 ulp for PortableLog/PortableLog1p, 2 ulp for PortableExp. The translation
// unit is compiled with -ffp-contract=off so no fused multiply-add changes the bits.
#ifndef EMAR_EVAL_STATS_PORTABLE_MATH_H_
#define EMAR_EVAL_STATS_PORTABLE_MATH_H_

namespace emar {

// Natural log. Returns -inf for 0, NaN for negative or NaN input, +inf for +inf.
double PortableLog(double x);
// log(1 + x), accurate for tiny |x|. Returns -inf for x == -1, NaN for x < -1.
double PortableLog1p(double x);
// e^x. Returns +inf above ~709.78, 0 below ~-745.13, NaN for NaN.
double PortableExp(double x);

// log(k!) for k >= 0, via Stirling's series with an exact table for k < 10 (used by the
// binomial sampler and McNemar's test). Relative accuracy about 1e-15.
double LogFactorial(double k);
// The Stirling remainder fc(k) = log(k!) - [(k+0.5) log(k+1) - (k+1) + log(sqrt(2 pi))].
double StirlingTail(double k);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_PORTABLE_MATH_H_
