#include "server/series_builder.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/series_point.h"

namespace emar {
namespace {

// The point of a succeeded job: its base scores and every candidate's EMAR, deltas and gates, of
// the aggregates or of `dataset` (server/series_point.h). Nothing when the report has no such
// dataset.
std::optional<emar::v1::SeriesPoint> MakePoint(const emar::v1::Job& job, const std::string& value,
                                               const emar::v1::Report& report,
                                               const std::string& dataset) {
  emar::v1::SeriesPoint point;
  point.set_value(value);
  point.set_job_id(job.job_id());
  point.set_name(job.name());
  point.set_created_unix_ms(job.created_unix_ms());
  if (!FillSeriesPoint(report, dataset, &point)) return std::nullopt;
  return point;
}

// Orders the points by their values: numbers by value when every value is a number (each parsed
// once), else text; ties keep their order.
void AddInOrder(std::vector<emar::v1::SeriesPoint> points, const std::vector<std::string>& values,
                emar::v1::Series* series) {
  std::vector<double> numbers(values.size());
  bool numeric = true;
  for (size_t i = 0; i < values.size(); ++i) {
    numeric = numeric && absl::SimpleAtod(values[i], &numbers[i]) && std::isfinite(numbers[i]);
  }
  series->set_numeric(numeric);
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return numeric ? numbers[a] < numbers[b] : values[a] < values[b];
  });
  for (size_t i : order) *series->add_points() = std::move(points[i]);
}

}  // namespace

absl::Status CheckSeriesRequest(const emar::v1::GetSeriesRequest& request) {
  if (request.labels().empty()) {
    return absl::InvalidArgumentError(
        "a series needs at least one label to select its jobs (e.g. --label run=exp-42)");
  }
  if (request.by().empty()) {
    return absl::InvalidArgumentError("a series needs the label to order by (e.g. --by step)");
  }
  return absl::OkStatus();
}

emar::v1::Series BuildSeries(const emar::v1::GetSeriesRequest& request,
                             const std::vector<emar::v1::Job>& jobs,
                             const ReportLookup& report_of) {
  emar::v1::Series series;
  series.set_by(request.by());
  *series.mutable_labels() = request.labels();
  std::vector<emar::v1::SeriesPoint> points;
  std::vector<std::string> values;
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // oldest first: ties keep that order
    const emar::v1::Job& job = *it;
    auto skip = [&](const std::string& why) {
      emar::v1::SeriesSkip* s = series.add_skipped();
      s->set_job_id(job.job_id());
      s->set_reason(why);
    };
    auto value = job.labels().find(request.by());
    if (value == job.labels().end()) {
      skip(absl::StrCat("no label '", request.by(), "'"));
      continue;
    }
    if (job.state() != emar::v1::JOB_STATE_SUCCEEDED) {
      std::string state = absl::AsciiStrToLower(emar::v1::JobState_Name(job.state()).substr(10));
      skip(job.error().empty() ? state : absl::StrCat(state, ": ", job.error()));
      continue;
    }
    absl::StatusOr<emar::v1::Report> report = report_of(job.job_id());
    if (!report.ok()) {  // deleted meanwhile
      skip(std::string(report.status().message()));
      continue;
    }
    std::optional<emar::v1::SeriesPoint> point =
        MakePoint(job, value->second, *report, request.dataset());
    if (!point) {
      skip(absl::StrCat("its report has no dataset '", request.dataset(), "'"));
      continue;
    }
    values.push_back(value->second);
    points.push_back(*std::move(point));
  }
  AddInOrder(std::move(points), values, &series);
  return series;
}

}  // namespace emar
