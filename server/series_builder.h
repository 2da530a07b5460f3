// Builds a run's series from its jobs, with no store or lock in it (like server/report_builder):
// one point per finished job ordered by its `by` label (numerically when every value is a
// number), and every other job carrying the labels listed as skipped, with why.
//
//   RETURN_IF_ERROR(CheckSeriesRequest(request));
//   ASSIGN_OR_RETURN(Series s, BuildSeries(request, jobs_newest_first, report_of));
#ifndef EMAR_SERVER_SERIES_BUILDER_H_
#define EMAR_SERVER_SERIES_BUILDER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"

namespace emar {

// The most jobs one series may gather.
inline constexpr int kMaxSeriesJobs = 10000;

// INVALID_ARGUMENT without labels to select the jobs or a label to order them by.
absl::Status CheckSeriesRequest(const emar::v1::GetSeriesRequest& request);

// A succeeded job's report (an error, e.g. deleted meanwhile, skips the job with its message).
using ReportLookup = std::function<absl::StatusOr<emar::v1::Report>(const std::string& job_id)>;

// `jobs` are the jobs carrying the request's labels, newest first (as listed); ties in the `by`
// value keep their age order, oldest first.
emar::v1::Series BuildSeries(const emar::v1::GetSeriesRequest& request,
                             const std::vector<emar::v1::Job>& jobs, const ReportLookup& report_of);

}  // namespace emar

#endif  // EMAR_SERVER_SERIES_BUILDER_H_
