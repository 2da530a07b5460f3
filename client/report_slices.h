// Slices in the rendered reports: for every (dataset, metric) entry with slices (the dataset's
// `fields.slice_field`), a per-slice table of n, base, candidate and the delta with its interval,
// sorted by delta with the worst first (as the report stores them), slices too small to gate
// marked; the HTML page adds a forest plot of the slice deltas with the max_slice_regression
// threshold.
//
//   out += SlicesText(candidate);   // or SlicesMarkdown, SlicesHtml
#ifndef EMAR_CLIENT_REPORT_SLICES_H_
#define EMAR_CLIENT_REPORT_SLICES_H_

#include <string>

#include "emar/v1/report.pb.h"

namespace emar {

// Each is empty when no entry of the candidate has slices.
std::string SlicesText(const emar::v1::CandidateReport& c);
std::string SlicesMarkdown(const emar::v1::CandidateReport& c);
std::string SlicesHtml(const emar::v1::CandidateReport& c, int color);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_SLICES_H_
