// Renders a report as a document to paste or publish: Markdown (pull requests, wikis, experiment
// trackers) or a self-contained HTML page. Same content as the text form: the leaderboard, then
// per candidate the four scores, both deltas with intervals and p-values, EMAR and gates, then
// the inputs with their digests.
#ifndef EMAR_CLIENT_REPORT_DOCUMENT_H_
#define EMAR_CLIENT_REPORT_DOCUMENT_H_

#include <string>

#include "emar/v1/report.pb.h"

namespace emar {

std::string ReportToMarkdown(const emar::v1::Report& report);
std::string ReportToHtml(const emar::v1::Report& report);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_DOCUMENT_H_
