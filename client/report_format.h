// Renders reports and jobs for people (text) and programs (JSON: the proto JSON mapping with
// snake_case field names, as documented in the README).
#ifndef EMAR_CLIENT_REPORT_FORMAT_H_
#define EMAR_CLIENT_REPORT_FORMAT_H_

#include <string>

#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"

namespace emar {

std::string ReportToJson(const emar::v1::Report& report);
std::string ReportToText(const emar::v1::Report& report);
std::string JobToJson(const emar::v1::Job& job);
std::string JobToText(const emar::v1::Job& job);
// Any message as one-line-per-field JSON.
std::string MessageToJson(const google::protobuf::Message& message);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_FORMAT_H_
