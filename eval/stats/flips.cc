#include "eval/stats/flips.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace emar {

absl::StatusOr<Flips> ListFlips(absl::Span<const double> base, absl::Span<const double> candidate,
                                const FlipOptions& options) {
  if (base.size() != candidate.size()) {
    return absl::InvalidArgumentError(absl::StrCat("flips: the base has ", base.size(),
                                                   " items and the candidate ", candidate.size(),
                                                   "; they must be paired by item"));
  }
  const bool higher = options.direction == Direction::kHigherIsBetter;
  auto right = [&](double v) { return higher ? v >= options.right_at : v <= options.right_at; };
  Flips flips;
  flips.items = static_cast<int64_t>(base.size());
  for (size_t i = 0; i < base.size(); ++i) {
    if (!std::isfinite(base[i]) || !std::isfinite(candidate[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("flips: row ", i, " has a value that is not a finite number"));
    }
    const bool base_right = right(base[i]);
    if (base_right == right(candidate[i])) continue;
    const Flip flip{i, base[i], candidate[i]};
    if (base_right) {
      ++flips.forgot_count;
      if (flips.forgot.size() < options.first_n) flips.forgot.push_back(flip);
    } else {
      ++flips.learned_count;
      if (flips.learned.size() < options.first_n) flips.learned.push_back(flip);
    }
  }
  return flips;
}

}  // namespace emar
