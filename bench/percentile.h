// The q-quantile (0 <= q <= 1) of a benchmark's samples, nearest rank: the sorted sample at index
// floor(q * n), the last for q = 1; `if_empty` when there are none. Shared by the load test and
// the coordinator benchmark.
#ifndef EMAR_BENCH_PERCENTILE_H_
#define EMAR_BENCH_PERCENTILE_H_

#include <algorithm>
#include <cstddef>
#include <vector>

namespace emar {

inline double Percentile(std::vector<double> v, double q, double if_empty) {
  if (v.empty()) return if_empty;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace emar

#endif  // EMAR_BENCH_PERCENTILE_H_
