#include "eval/stats/slice_bootstrap.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/stats/deterministic_rng.h"

namespace emar {
namespace {

// Scores of every (slice, system) from accumulators filled with `weight`ed rows.
class SliceAccumulators {
 public:
  SliceAccumulators(const ValidRows& rows, size_t num_slices)
      : rows_(rows),
        width_(rows.metric().AccumulatorWidth(rows.rows().num_labels)),
        stride_(rows.metric().stats_width()),
        num_slices_(num_slices),
        acc_(num_slices * rows.num_systems() * width_, 0.0),
        count_(num_slices, 0.0) {}

  void Clear() {
    std::fill(acc_.begin(), acc_.end(), 0.0);
    std::fill(count_.begin(), count_.end(), 0.0);
  }
  void Add(size_t row, size_t slice) {
    count_[slice] += 1;
    for (size_t s = 0; s < rows_.num_systems(); ++s) {
      rows_.metric().Accumulate(rows_.rows().systems[s].subspan(row * stride_, stride_), 1.0,
                                rows_.rows().num_labels, Acc(slice, s));
    }
  }
  std::optional<double> Score(size_t slice, size_t system) const {
    if (count_[slice] == 0) return std::nullopt;
    return FinalizeScore(
        rows_.metric(),
        absl::MakeConstSpan(acc_).subspan((slice * rows_.num_systems() + system) * width_, width_),
        rows_.rows().num_labels, count_[slice]);
  }

 private:
  absl::Span<double> Acc(size_t slice, size_t system) {
    return absl::MakeSpan(acc_).subspan((slice * rows_.num_systems() + system) * width_, width_);
  }
  const ValidRows& rows_;
  const size_t width_, stride_, num_slices_;
  std::vector<double> acc_;
  std::vector<double> count_;
};

}  // namespace

absl::StatusOr<std::vector<SliceStats>> RunSliceBootstrap(const ValidRows& rows,
                                                          absl::Span<const uint32_t> slice_of_row,
                                                          size_t num_slices,
                                                          const BootstrapOptions& options,
                                                          uint64_t stream) {
  RETURN_IF_ERROR(ValidateBootstrapOptions(options));
  const size_t n = rows.n(), systems = rows.num_systems();
  if (slice_of_row.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("slices: ", slice_of_row.size(), " slice labels for ", n, " items"));
  }
  std::vector<SliceStats> out(num_slices);
  for (uint32_t s : slice_of_row) {
    if (s >= num_slices) {
      return absl::InvalidArgumentError(
          absl::StrCat("slices: slice index ", s, " of ", num_slices));
    }
    ++out[s].n;
  }
  SliceAccumulators acc(rows, num_slices);
  for (size_t i = 0; i < n; ++i) acc.Add(i, slice_of_row[i]);
  for (size_t j = 0; j < num_slices; ++j) {
    out[j].systems.resize(systems);
    out[j].delta.resize(systems - 1);
    for (size_t s = 0; s < systems; ++s) out[j].systems[s].value = acc.Score(j, s);
    for (size_t c = 1; c < systems; ++c) {
      const auto& b = out[j].systems[0].value;
      const auto& v = out[j].systems[c].value;
      if (b && v) out[j].delta[c - 1].value = *v - *b;
    }
  }
  // values[(j * systems + s) * B + r]; deltas[(j * (systems - 1) + c - 1) * B + r]
  const size_t resamples = static_cast<size_t>(options.resamples);
  std::vector<std::optional<double>> values(num_slices * systems * resamples);
  std::vector<std::optional<double>> deltas(num_slices * (systems - 1) * resamples);
  for (size_t r = 0; r < resamples; ++r) {
    acc.Clear();
    DeterministicRng rng = DeterministicRng::ForStream(options.seed, {stream, r});
    for (size_t k = 0; k < n; ++k) {
      const size_t i = rng.UniformBelow(n);
      acc.Add(i, slice_of_row[i]);
    }
    for (size_t j = 0; j < num_slices; ++j) {
      const std::optional<double> base = acc.Score(j, 0);
      values[(j * systems) * resamples + r] = base;
      for (size_t c = 1; c < systems; ++c) {
        const std::optional<double> v = acc.Score(j, c);
        values[(j * systems + c) * resamples + r] = v;
        if (base && v) deltas[(j * (systems - 1) + c - 1) * resamples + r] = *v - *base;
      }
    }
  }
  auto span = [&](const std::vector<std::optional<double>>& v, size_t k) {
    return absl::MakeConstSpan(v).subspan(k * resamples, resamples);
  };
  for (size_t j = 0; j < num_slices; ++j) {
    for (size_t s = 0; s < systems; ++s) {
      out[j].systems[s].ci = IntervalOf(span(values, j * systems + s), options.confidence);
    }
    for (size_t c = 1; c < systems; ++c) {
      out[j].delta[c - 1].ci =
          IntervalOf(span(deltas, j * (systems - 1) + c - 1), options.confidence);
    }
  }
  return out;
}

}  // namespace emar
