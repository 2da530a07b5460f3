#include "eval/stats/dataset_rows.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar {

absl::StatusOr<ValidRows> ValidRows::Validate(DatasetRows rows, absl::string_view what) {
  if (rows.metric == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no metric"));
  }
  if (rows.n == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": no examples"));
  if (rows.n >= (uint64_t{1} << 32)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", rows.n, " examples, limit 2^32-1"));
  }
  if (rows.systems.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no systems"));
  const Metric& metric = *rows.metric;
  const size_t width = metric.stats_width();
  if (width == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": stats_width is 0"));
  if (metric.uses_labels() && rows.num_labels == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": metric ", metric.name(), " uses labels but num_labels is 0"));
  }
  for (size_t s = 0; s < rows.systems.size(); ++s) {
    absl::Span<const double> sys = rows.systems[s];
    if (sys.size() != rows.n * width) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": system ", s, " has ", sys.size(),
                                                     " values, want n*stats_width = ", rows.n, "*",
                                                     width));
    }
    for (size_t i = 0; i < sys.size(); ++i) {
      const double v = sys[i];
      if (metric.is_binary() && v != 0.0 && v != 1.0) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": system ", s, " example ", i / width,
                                                       ": binary metric value ", v,
                                                       " is not 0 or 1"));
      }
      if (metric.uses_labels() &&
          !(v >= 0 && v < static_cast<double>(rows.num_labels) && v == std::floor(v))) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": system ", s, " example ", i / width,
                                                       ": label id ", v, " outside [0, ",
                                                       rows.num_labels, ")"));
      }
    }
  }
  return ValidRows(std::move(rows));
}

std::vector<MetricValue> CorpusScores(const ValidRows& valid) {
  const DatasetRows& rows = valid.rows();
  const Metric& metric = *rows.metric;
  const size_t width = metric.stats_width();
  std::vector<MetricValue> out;
  std::vector<double> acc(metric.AccumulatorWidth(rows.num_labels));
  for (absl::Span<const double> sys : rows.systems) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (size_t i = 0; i < rows.n; ++i) {
      metric.Accumulate(sys.subspan(i * width, width), 1.0, rows.num_labels, absl::MakeSpan(acc));
    }
    out.push_back(metric.Finalize(acc, rows.num_labels, static_cast<double>(rows.n)));
  }
  return out;
}

std::optional<double> FinalizeScore(const Metric& metric, absl::Span<const double> acc,
                                    size_t num_labels, double n) {
  MetricValue v = metric.Finalize(acc, num_labels, n);
  if (!v.value.has_value() || !std::isfinite(*v.value)) return std::nullopt;
  return v.value;
}

}  // namespace emar
