// Builds the EMAR report from assembled per-example statistics: the four scores and both deltas
// per candidate, EMAR by the job's formula, bootstrap intervals and p-values, the leaderboard,
// pairwise comparisons and gates. Pure: same inputs, byte-identical report.
//
//   ASSIGN_OR_RETURN(Report r, BuildReport(job_id, request, assembled, inputs));
#ifndef EMAR_SERVER_REPORT_BUILDER_H_
#define EMAR_SERVER_REPORT_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"
#include "server/result_assembler.h"

namespace emar {

// The version string stamped into every report's provenance.
const char* EmarVersion();

// `request` is the stored request with defaults filled in (see PlanJob); `inputs` lists every
// input file for provenance.
absl::StatusOr<emar::v1::Report> BuildReport(const std::string& job_id,
                                             const emar::v1::CreateJobRequest& request,
                                             const AssembledResults& results,
                                             std::vector<emar::v1::InputFile> inputs);

// Provenance entries for every input path of the request, in spec order.
std::vector<emar::v1::InputFile> DescribeInputs(const emar::v1::CreateJobRequest& request);

}  // namespace emar

#endif  // EMAR_SERVER_REPORT_BUILDER_H_
