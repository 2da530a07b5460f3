#include "eval/stats/portable_math.h"

#include <cmath>
#include <limits>

namespace emar {
namespace {

// fdlibm's split of ln 2: kLn2Hi has trailing zero bits so that e * kLn2Hi is exact for any
// binary exponent e.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kHalfLog2Pi = 0.91893853320467274178;

// 2 * atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.1716, by its odd power series.
double TwoAtanh(double s) {
  const double s2 = s * s;
  double p = 1.0 / 25.0;
  for (int k = 23; k >= 3; k -= 2) p = p * s2 + 1.0 / k;
  return 2.0 * s + 2.0 * s * s2 * p;
}

struct InverseFactorials {
  double v[18];
  InverseFactorials() {
    v[0] = 1.0;
    for (int j = 1; j < 18; ++j) v[j] = v[j - 1] / j;
  }
};

}  // namespace

double PortableLog(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2;
    e -= 1;
  }
  // m in [sqrt(1/2), sqrt(2)); m - 1 is exact (Sterbenz).
  const double s = (m - 1.0) / (m + 1.0);
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (TwoAtanh(s) + de * kLn2Lo);
}

double PortableLog1p(double x) {
  if (std::isnan(x) || x < -1) return std::numeric_limits<double>::quiet_NaN();
  if (x == -1) return -std::numeric_limits<double>::infinity();
  if (std::fabs(x) < 0.25) return TwoAtanh(x / (2.0 + x));  // |s| < 0.143
  return PortableLog(1.0 + x);
}

double PortableExp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.1332191019412) return 0.0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.347
  // Taylor series of e^r to r^17 / 17! (remainder < 1e-19 for |r| <= 0.347).
  static const InverseFactorials kInvFact;
  double p = kInvFact.v[17];
  for (int j = 16; j >= 0; --j) p = p * r + kInvFact.v[j];
  // ldexp in two steps so that an intermediate power of two never overflows or underflows
  // before the final (single) rounding.
  const int ki = static_cast<int>(k);
  if (ki < -1000) return std::ldexp(std::ldexp(p, ki + 1000), -1000);
  return std::ldexp(p, ki);
}

double StirlingTail(double k) {
  static constexpr double kTable[10] = {
      0.08106146679532726,  0.04134069595540929, 0.02767792568499834, 0.02079067210376509,
      0.01664469118982119,  0.01387612882307075, 0.01189670994589177, 0.01041126526197209,
      0.009255462182712733, 0.008330563433362871};
  if (k <= 9) return kTable[static_cast<int>(k)];
  // Stirling's series in x = k + 1 to the x^-7 term; the next term is below 4e-13 for k >= 10.
  const double x = k + 1;
  const double x2 = x * x;
  return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - 1.0 / 1680 / x2) / x2) / x2) / x;
}

double LogFactorial(double k) {
  if (k < 2) return 0.0;
  return (k + 0.5) * PortableLog(k + 1) - (k + 1) + kHalfLog2Pi + StirlingTail(k);
}

}  // namespace emar
