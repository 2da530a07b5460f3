// Per-slice scores, deltas and intervals of one dataset (e.g. MMLU by subject): every slice is
// scored on the same whole-dataset resamples. Resample r draws n items uniformly with
// replacement from the whole dataset (DeterministicRng stream {stream, r} of options.seed), and
// each slice's score in it is the metric of that slice's drawn items, so slice sizes vary
// between resamples as they would in new data, and every slice's delta is paired by item
// (base and candidates are scored on the same draw).
//
//   ASSIGN_OR_RETURN(std::vector<SliceStats> s,
//                    RunSliceBootstrap(rows, column.of_row, column.names.size(), options, 7));
//   s[j].delta[c - 1].ci.low   // lower bound of candidate c's delta on slice j
//
// A slice that a resample did not draw, or whose score is undefined there, counts as an
// undefined resample (Interval::undefined_resamples); percentile rule as in paired_bootstrap.h.
// Deterministic: same inputs, same bits. Cost: resamples x n row additions per system.
#ifndef EMAR_EVAL_STATS_SLICE_BOOTSTRAP_H_
#define EMAR_EVAL_STATS_SLICE_BOOTSTRAP_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/stats/dataset_rows.h"
#include "eval/stats/paired_bootstrap.h"

namespace emar {

struct SliceStats {
  size_t n = 0;                   // items of the slice
  std::vector<Estimate> systems;  // [system]: the slice's score, its interval
  std::vector<Estimate> delta;    // [candidate system - 1]: candidate - base
};

// `slice_of_row[i]` < num_slices is row i's slice. INVALID_ARGUMENT when its length is not
// rows.n(), a slice index is out of range, or the options are invalid.
absl::StatusOr<std::vector<SliceStats>> RunSliceBootstrap(const ValidRows& rows,
                                                          absl::Span<const uint32_t> slice_of_row,
                                                          size_t num_slices,
                                                          const BootstrapOptions& options,
                                                          uint64_t stream);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_SLICE_BOOTSTRAP_H_
