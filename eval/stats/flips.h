// What a candidate learned and forgot against the base model: the items where the base was wrong
// and the candidate right (learned), and the reverse (forgot), from the two models' per-item
// statistics paired by item (row i of both is the same item).
//
//   FlipOptions options;                         // first 20 of each, "right" means >= 0.5
//   Flips f = ListFlips(base_rows, candidate_rows, options);
//   // f.learned_count, f.forgot_count; f.learned[0].row is the first learned item's row
//
// Rows are one column each: 0/1 (accuracy, exact_match, a unit-test pass) or a per-item mean in
// [0, 1] (the mean of several samples, a judge's grade scaled to [0, 1]); an item is right when
// its value is >= options.right_at (<= for a lower-is-better score). For 0/1 rows the counts
// are McNemar's b (forgot) and c (learned). Pure and thread-safe.
#ifndef EMAR_EVAL_STATS_FLIPS_H_
#define EMAR_EVAL_STATS_FLIPS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/metrics/metric.h"

namespace emar {

struct FlipOptions {
  size_t first_n = 20;    // how many items of each list to keep, in row order
  double right_at = 0.5;  // the threshold that makes an item right
  Direction direction = Direction::kHigherIsBetter;
};

struct Flip {
  size_t row = 0;  // the item's row (the caller maps it to its id)
  double base = 0;
  double candidate = 0;
};

struct Flips {
  int64_t learned_count = 0;  // base wrong, candidate right
  int64_t forgot_count = 0;   // base right, candidate wrong
  int64_t items = 0;
  std::vector<Flip> learned;  // the first options.first_n, in row order
  std::vector<Flip> forgot;
};

// INVALID_ARGUMENT when the spans differ in length or a value is not finite.
absl::StatusOr<Flips> ListFlips(absl::Span<const double> base, absl::Span<const double> candidate,
                                const FlipOptions& options = {});

}  // namespace emar

#endif  // EMAR_EVAL_STATS_FLIPS_H_
