// The report's statistics beyond intervals and tests, in words and cells, for every format
// (text, Markdown, HTML; JSON carries the fields themselves): n items and k samples per item, the
// minimum detectable effect (MDE) of every delta, underpowered gates, and the Wilson intervals
// and warning of small 0/1 datasets. The fields are filled by the coordinator's report builder
// (server/report_statistics.h); these functions only render them.
#ifndef EMAR_CLIENT_REPORT_POWER_H_
#define EMAR_CLIENT_REPORT_POWER_H_

#include <string>
#include <vector>

#include "emar/v1/report.pb.h"

namespace emar {

// "2000", or with several samples per item "200 items × 5 samples" ("× 5/3 samples" when the
// base and the candidate differ).
std::string ItemsText(const emar::v1::DatasetComparison& d);

// The same for a narrow column: "2000", "200×5", "200×5/3".
std::string ItemsCell(const emar::v1::DatasetComparison& d);

// The delta's MDE: "0.0312", or "–" when the report has none.
std::string MdeText(const emar::v1::DatasetComparison& d);

// A gate's result cell: "pass", "FAIL", "pass (underpowered)".
std::string GateResultText(const emar::v1::GateResult& g);

// Sentences for a candidate: one per underpowered gate ("... a pass here means little"), one
// per small dataset (the Wilson intervals and the warning), and one per dataset with several
// samples per item (n items, k samples, the bootstrap resamples items).
std::vector<std::string> StatisticsNotes(const emar::v1::CandidateReport& c,
                                         const emar::v1::BootstrapSettings& settings);

// The text report's line after a delta: "    MDE       0.0160 (mcnemar, 80% power, alpha 0.05)"
// and, on a small dataset, the Wilson line; empty when there is nothing to say.
std::string DeltaStatisticsLines(const emar::v1::DatasetComparison& d,
                                 const emar::v1::BootstrapSettings& settings);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_POWER_H_
