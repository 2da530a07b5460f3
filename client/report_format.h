// Renders reports and jobs for people (text) and programs (JSON: the proto JSON mapping with
// snake_case field names, as documented in docs/report-json.md).
#ifndef EMAR_CLIENT_REPORT_FORMAT_H_
#define EMAR_CLIENT_REPORT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"

namespace emar {

std::string ReportToJson(const emar::v1::Report& report);
std::string ReportToText(const emar::v1::Report& report);
std::string JobToJson(const emar::v1::Job& job, bool one_line = false);
std::string JobToText(const emar::v1::Job& job);
// Labels as "k=v" pairs in key order, joined by `separator` ("run=exp-42, step=500").
std::string LabelsText(const google::protobuf::Map<std::string, std::string>& labels,
                       absl::string_view separator);
// Any message as JSON: indented, or on one line (for streams of events, one per line).
std::string MessageToJson(const google::protobuf::Message& message, bool one_line = false);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_FORMAT_H_
