// Reading what emarctl prints in --format json: reports and jobs through the proto JSON parser
// (unknown fields rejected, so a renamed field fails loudly), and `watch`'s stream of objects.
#ifndef EMAR_TESTS_SYSTEM_REPORT_JSON_H_
#define EMAR_TESTS_SYSTEM_REPORT_JSON_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"

namespace emar::testing {

absl::StatusOr<emar::v1::Report> ParseReportJson(const std::string& json);
absl::StatusOr<emar::v1::Job> ParseJobJson(const std::string& json);
absl::StatusOr<emar::v1::ListJobsResponse> ParseJobListJson(const std::string& json);
// Splits concatenated top-level JSON objects ("{...}\n{...}") into one string each.
absl::StatusOr<std::vector<std::string>> SplitJsonObjects(const std::string& text);

// Empty when the reports are equal field by field (doubles bit for bit) apart from job_id;
// otherwise a description of the differences.
std::string DiffIgnoringJobId(const emar::v1::Report& a, const emar::v1::Report& b);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_REPORT_JSON_H_
