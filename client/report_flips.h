// Flips in the rendered reports and in `emarctl flips`: the items a candidate learned (base
// wrong, candidate right) and forgot (base right, candidate wrong) on each dataset.
//
// Every report carries the counts (DatasetComparison.flips); `emarctl report --flips N` first
// fetches the first N items of each kind with FillReportFlips, and the renderers below list them
// (id, references, both predictions, cut to a readable length; before a prediction, the per-item
// value when it is not a plain 0/1 outcome, and for several samples per item the per-item mean,
// the number of samples and which prediction is shown: "mean 2.667 of 3 samples; first sample
// "..."", the item's first line in the outputs). The HTML report's counts link to a per-dataset
// flips table in the page.
//
//   RETURN_IF_ERROR(FillReportFlips(client, 5, kFlipsReadableChars, &report));
//   out += FlipsText(candidate);
#ifndef EMAR_CLIENT_REPORT_FLIPS_H_
#define EMAR_CLIENT_REPORT_FLIPS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/evaluation_client.h"
#include "client/report_document.h"
#include "emar/v1/report.pb.h"

namespace emar {

// Where listed references and predictions are cut in reports and text listings.
inline constexpr int kFlipsReadableChars = 80;

// Fetches the first `n` learned and forgot items of every (dataset, metric) entry with counts,
// for every candidate, into the entries' flip_items. n <= 0 does nothing.
absl::Status FillReportFlips(EvaluationClient& client, int n, int max_chars,
                             emar::v1::Report* report);

// The report's flips sections for one candidate (empty when no entry has counts).
std::string FlipsText(const emar::v1::CandidateReport& c);
std::string FlipsMarkdown(const emar::v1::CandidateReport& c);
// With `link` (HtmlReportOptions::flips_link), the counts link to its pages and the per-dataset
// tables are left out.
std::string FlipsHtml(const emar::v1::CandidateReport& c, const FlipsLinker& link = nullptr);

// `emarctl flips`: one item as a text line block, and a whole listing as an HTML page. `intro`
// (HTML, the caller's to escape) goes between the page's heading and its table: the console's
// counts and links.
std::string FlipItemText(const emar::v1::FlipItem& item);
std::string FlipsPage(const std::string& title, const std::vector<emar::v1::FlipItem>& items,
                      const std::string& intro = "");

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_FLIPS_H_
