#include "eval/stats/deterministic_rng.h"

#include <cmath>

#include "eval/stats/portable_math.h"

namespace emar {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

DeterministicRng::DeterministicRng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = SplitMix64(&state);
}

DeterministicRng DeterministicRng::ForStream(uint64_t seed, std::initializer_list<uint64_t> path) {
  uint64_t state = seed;
  uint64_t folded = SplitMix64(&state);
  for (uint64_t word : path) {
    state = folded ^ word;
    folded = SplitMix64(&state);
  }
  return DeterministicRng(folded);
}

uint64_t DeterministicRng::UniformBelow(uint64_t bound) {
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

uint64_t DeterministicRng::Binomial(uint64_t n, double p) {
  if (n == 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - Binomial(n, 1.0 - p);
  if (static_cast<double>(n) * p < 10) return BinomialInversion(n, p);
  return BinomialBtrs(n, p);
}

// Counts the successes among n Bernoulli(p) trials by summing Geometric(p) waiting times
// ceil(log U / log(1-p)) until they pass n. Expected n*p + 1 iterations.
uint64_t DeterministicRng::BinomialInversion(uint64_t n, double p) {
  const double log_q = PortableLog1p(-p);
  const double dn = static_cast<double>(n);
  double position = 0;
  uint64_t successes = 0;
  while (true) {
    const double wait = std::ceil(PortableLog(UniformOpen01()) / log_q);
    if (wait > dn - position) return successes;
    position += wait;
    ++successes;
  }
}

// BTRS ("transformed rejection with squeeze", Hormann 1993, as in TensorFlow's sampler) for
// n*p >= 10 and p <= 1/2. Every accepted k has exactly probability C(n,k) p^k (1-p)^(n-k).
uint64_t DeterministicRng::BinomialBtrs(uint64_t n, double p) {
  const double count = static_cast<double>(n);
  const double stddev = std::sqrt(count * p * (1 - p));
  const double b = 1.15 + 2.53 * stddev;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = count * p + 0.5;
  const double alpha = (2.83 + 5.1 / b) * stddev;
  const double v_r = 0.92 - 4.2 / b;
  const double r = p / (1 - p);
  const double m = std::floor((count + 1) * p);
  const double mode_term = (m + 0.5) * PortableLog((m + 1) / (r * (count - m + 1))) +
                           StirlingTail(m) + StirlingTail(count - m);
  while (true) {
    const double u = UniformOpen01() - 0.5;
    double v = UniformOpen01();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + c);
    if (us >= 0.07 && v <= v_r) return static_cast<uint64_t>(k);
    if (k < 0 || k > count) continue;
    v = PortableLog(v * alpha / (a / (us * us) + b));
    const double bound = mode_term + (count + 1) * PortableLog((count - m + 1) / (count - k + 1)) +
                         (k + 0.5) * PortableLog(r * (count - k + 1) / (k + 1)) - StirlingTail(k) -
                         StirlingTail(count - k);
    if (v <= bound) return static_cast<uint64_t>(k);
  }
}

void DeterministicRng::Multinomial(uint64_t n, absl::Span<const uint64_t> weights,
                                   absl::Span<uint64_t> out) {
  uint64_t remaining_weight = 0;
  for (uint64_t w : weights) remaining_weight += w;
  uint64_t remaining = n;
  for (size_t j = 0; j < weights.size(); ++j) {
    const uint64_t w = weights[j];
    if (remaining == 0 || w == 0) {
      out[j] = 0;
    } else if (w >= remaining_weight) {
      out[j] = remaining;
    } else {
      out[j] = Binomial(remaining, static_cast<double>(w) / static_cast<double>(remaining_weight));
    }
    remaining -= out[j];
    remaining_weight -= w;
  }
}

}  // namespace emar
