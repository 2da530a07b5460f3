// Renders a report as a document to paste or publish: Markdown (pull requests, wikis, experiment
// trackers) or a self-contained HTML page. Same content as the text form: the leaderboard, then
// per candidate the four scores, both deltas with intervals and p-values, EMAR and gates, then
// the inputs with their digests. The HTML page adds SVG charts (client/svg_plot.h): EMAR with
// intervals and gate thresholds across candidates, the deltas, and per candidate T0 T1 beside
// B0 B1; Markdown keeps to tables.
#ifndef EMAR_CLIENT_REPORT_DOCUMENT_H_
#define EMAR_CLIENT_REPORT_DOCUMENT_H_

#include <string>
#include <vector>

#include "client/svg_plot.h"
#include "emar/v1/report.pb.h"

namespace emar {

std::string ReportToMarkdown(const emar::v1::Report& report);
std::string ReportToHtml(const emar::v1::Report& report);
// A self-contained page's start, up to and including <body>: charset, a Content-Security-Policy
// that lets it load nothing from anywhere, the reports' inline style, the escaped title.
std::string HtmlPageHead(const std::string& title);
// Reference lines for a chart: the distinct thresholds of `gate` among `gates`, where the gate
// compares (max_benchmark_regression at -threshold on the benchmark delta, the others at
// +threshold), labelled "GATE VALUE".
std::vector<svg::RefLine> GateThresholdLines(const std::vector<const emar::v1::GateResult*>& gates,
                                             const std::string& gate);
// A table cell's text, escaped, with each bracketed interval ("[0.1839, 0.2482]") kept on one
// line when the cell wraps.
std::string HtmlCell(const std::string& text);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_DOCUMENT_H_
