#include "server/result_checks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/job/suite.h"
#include "eval/metrics/metric.h"

namespace emar {
namespace {

// The values column `col` of a row of `metric` may hold (both ends included).
struct ColumnRange {
  double lo = -std::numeric_limits<double>::max();
  double hi = std::numeric_limits<double>::max();
};

ColumnRange RangeOf(const Metric& metric, size_t col) {
  const std::string name(metric.name());
  if (metric.is_binary() || name == "accuracy" || name == "exact_match" || name == "token_f1" ||
      absl::StartsWith(name, "rouge") || absl::StartsWith(name, "mc_acc") || name == "pass_at_k") {
    return {0, 1};  // per-example fractions (means of 0/1 samples included)
  }
  // BLEU and chrF rows are lengths and n-gram counts; perplexity's are a log-prob sum, a token
  // count and a count of -inf tokens.
  if (name == "bleu" || name == "chrf" || (name == "perplexity" && col > 0)) return {0};
  return {};  // free-valued scores ("score"): finite is all that is known
}

absl::Status Refuse(const emar::v1::ShardTask& task, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("shard ", task.shard_id(), " of job '", task.job_id(), "' (", task.model(),
                   " on ", task.dataset(), ", ", task.metric(), "): result refused: ", why));
}

absl::Status CheckShape(const emar::v1::ShardTask& task, const emar::v1::ShardResult& r,
                        const Metric& metric) {
  const int64_t rows = r.reference_row_size();
  if (r.stats_width() != static_cast<int32_t>(metric.stats_width())) {
    return Refuse(task, absl::StrCat("statistics width ", r.stats_width(), ", metric '",
                                     metric.name(), "' has ", metric.stats_width()));
  }
  if (task.rows() > 0 && rows != task.rows()) {
    return Refuse(task, absl::StrCat(rows, " rows, the shard's outputs have ", task.rows()));
  }
  if (r.line_size() != rows || static_cast<int64_t>(r.stats_size()) != rows * r.stats_width()) {
    return Refuse(task, absl::StrCat(rows, " reference rows, ", r.line_size(), " lines and ",
                                     r.stats_size(), " values of width ", r.stats_width()));
  }
  if (!metric.uses_labels() && r.labels_size() > 0) {
    return Refuse(task, absl::StrCat(r.labels_size(), " labels for metric '", metric.name(),
                                     "', which has none"));
  }
  if (r.labels_size() > static_cast<int>(kMaxLabels)) {
    return Refuse(task, absl::StrCat(r.labels_size(), " labels, more than ", kMaxLabels));
  }
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t ref = r.reference_row(static_cast<int>(i));
    const uint64_t line = r.line(static_cast<int>(i));
    if (task.reference_rows() > 0 && ref >= task.reference_rows()) {
      return Refuse(task, absl::StrCat("row ", i, " names reference row ", ref, " of ",
                                       task.reference_rows()));
    }
    if (line < static_cast<uint64_t>(std::max<int64_t>(task.first_line(), 1))) {
      return Refuse(task, absl::StrCat("row ", i, " names line ", line,
                                       ", before the shard's first line ", task.first_line()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckShardResult(const emar::v1::ShardTask& task, const emar::v1::ShardResult& r) {
  absl::StatusOr<std::unique_ptr<Metric>> metric = MetricOfTask(task);
  if (!metric.ok()) return Refuse(task, std::string(metric.status().message()));
  RETURN_IF_ERROR(CheckShape(task, r, **metric));
  const size_t width = (*metric)->stats_width();
  const bool labels = (*metric)->uses_labels();
  for (int i = 0; i < r.stats_size(); ++i) {
    const double v = r.stats(i);
    const size_t col = static_cast<size_t>(i) % width;
    if (!std::isfinite(v)) {
      return Refuse(task, absl::StrCat("row ", i / width, " column ", col, " is ", v,
                                       ", not a finite number"));
    }
    if (labels) {
      if (v < 0 || v >= r.labels_size() || v != std::floor(v)) {
        return Refuse(task,
                      absl::StrCat("row ", i / width, " column ", col, " is label id ", v,
                                   ", not an index into the shard's ", r.labels_size(), " labels"));
      }
      continue;
    }
    const ColumnRange range = RangeOf(**metric, col);
    if (v < range.lo || v > range.hi) {
      return Refuse(task, absl::StrCat("row ", i / width, " column ", col, " is ", v,
                                       ", outside what metric '", (*metric)->name(), "' produces [",
                                       range.lo, ", ", range.hi, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace emar
