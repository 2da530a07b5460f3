// A random source whose output is fixed by its seed on every machine and compiler: xoshiro256**
// seeded through splitmix64, with our own bounded-integer (Lemire), uniform, binomial and
// multinomial draws. std:: distributions are not used because their algorithms differ between
// standard libraries, and the bootstrap must give the same report to the last digit anywhere.
//
//   DeterministicRng rng = DeterministicRng::ForStream(/*seed=*/12345, /*stream=*/{0, 17});
//   uint64_t i = rng.UniformBelow(n);             // uniform in [0, n)
//   uint64_t k = rng.Binomial(1000000, 0.25);     // exact Binomial(n, p) draw
//   std::vector<uint64_t> m(4);
//   rng.Multinomial(1000, {10, 20, 30, 40}, absl::MakeSpan(m));  // cell probabilities 10/100 ...
//
// Not thread-safe; give each thread (or each resample) its own stream via ForStream, which is
// what makes results independent of the number of threads.
#ifndef EMAR_EVAL_STATS_DETERMINISTIC_RNG_H_
#define EMAR_EVAL_STATS_DETERMINISTIC_RNG_H_

#include <cstdint>
#include <initializer_list>

#include "absl/types/span.h"

namespace emar {

// splitmix64 step: advances *state and returns the next output (Steele, Lea, Flood 2014).
uint64_t SplitMix64(uint64_t* state);

class DeterministicRng {
 public:
  // The four state words are four splitmix64 outputs from `seed`.
  explicit DeterministicRng(uint64_t seed);

  // An independent stream for (seed, path...): the path words are folded into the seed with
  // splitmix64, so ForStream(s, {0, 5}) and ForStream(s, {1, 5}) are unrelated sequences.
  static DeterministicRng ForStream(uint64_t seed, std::initializer_list<uint64_t> path);

  // Next 64 raw bits (xoshiro256**, Blackman & Vigna 2018).
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), exactly (Lemire's multiply-and-reject). bound must be > 0.
  uint64_t UniformBelow(uint64_t bound);
  // Uniform on the open interval (0, 1): ((Next() >> 11) + 0.5) * 2^-53, never 0 or 1.
  double UniformOpen01() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }

  // An exact Binomial(n, p) draw for 0 <= p <= 1 (p outside is clamped). Inversion by
  // geometric waiting times when min(p, 1-p) * n < 10, else Hormann's BTRS rejection sampler;
  // both use PortableLog only, so the draw is identical on every machine.
  uint64_t Binomial(uint64_t n, double p);

  // Multinomial(n; w_j / sum(w)) into `out` (same size as `weights`), by conditional binomials
  // in index order. Integer weights keep every probability an exact ratio. sum(w) must be > 0
  // unless n == 0.
  void Multinomial(uint64_t n, absl::Span<const uint64_t> weights, absl::Span<uint64_t> out);

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t BinomialInversion(uint64_t n, double p);
  uint64_t BinomialBtrs(uint64_t n, double p);

  uint64_t s_[4];
};

}  // namespace emar

#endif  // EMAR_EVAL_STATS_DETERMINISTIC_RNG_H_
