// Renders a report as a document to paste or publish: Markdown (pull requests, wikis, experiment
// trackers) or a self-contained HTML page. Same content as the text form: the leaderboard, then
// per candidate the four scores, both deltas with intervals and p-values, EMAR and gates, then
// the inputs with their digests. The HTML page adds SVG charts (client/svg_plot.h): EMAR with
// intervals and gate thresholds across candidates, the deltas, and per candidate T0 T1 beside
// B0 B1; Markdown keeps to tables. A suite's pages (a candidate with more `datasets` entries
// than one target and one benchmark) add a table of every dataset and metric per candidate
// (scores, delta with interval, p and Holm p, the dataset's gates), and the HTML page a forest
// plot of the benchmark deltas, the aggregate first, each row with its own regression threshold.
// A job of one target and one benchmark keeps its pages byte for byte.
#ifndef EMAR_CLIENT_REPORT_DOCUMENT_H_
#define EMAR_CLIENT_REPORT_DOCUMENT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/svg_plot.h"
#include "emar/v1/report.pb.h"

namespace emar {

// One table of a document: header cells and rows of cells, rendered by either format.
struct DocumentTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Where the HTML report's flips counts link for candidate `c` on `d` (`kind`: "learned",
// "forgot", or "" for both): a URL, escaped by the renderer.
using FlipsLinker =
    std::function<std::string(const emar::v1::CandidateReport& c,
                              const emar::v1::DatasetComparison& d, const std::string& kind)>;

struct HtmlReportOptions {
  // Unset (emarctl): each dataset's counts link to its flips table further down the page. Set
  // (the console): the dataset and its learned and forgot counts link to `flips_link`'s pages,
  // and the page lists no flips itself.
  FlipsLinker flips_link;
};

std::string ReportToMarkdown(const emar::v1::Report& report);
std::string ReportToHtml(const emar::v1::Report& report, const HtmlReportOptions& options = {});
// A self-contained page's start, up to and including <body>: charset, a Content-Security-Policy
// that lets it load nothing from anywhere, the reports' inline style, the escaped title.
std::string HtmlPageHead(const std::string& title);
// Reference lines for a chart: the distinct thresholds of `gate` among `gates`, where the gate
// compares (max_benchmark_regression at -threshold on the benchmark delta, the others at
// +threshold), labelled "GATE VALUE".
std::vector<svg::RefLine> GateThresholdLines(const std::vector<const emar::v1::GateResult*>& gates,
                                             const std::string& gate);
// A line of "no change" at 0 and the thresholds of `gate_names` (GateThresholdLines of each), for
// a chart of deltas.
std::vector<svg::RefLine> DeltaReferenceLines(const std::vector<const emar::v1::GateResult*>& gates,
                                              const std::vector<std::string>& gate_names);
// A p-value with `digits` significant digits ("0.0123", "3.151e-53"), or "<1e-300" below 1e-300:
// an exact test's tail that underflows a double is tiny, not 0.
std::string PValueText(double p, int digits);
// What follows "p" when a p-value is printed: "=0.0123", or "<1e-300".
std::string PValueEquals(double p, int digits);
// A Markdown table cell's text: pipes escaped, newlines as spaces.
std::string MdCell(const std::string& s);
// Appends `t` as an HTML table: cells escaped (HtmlCell), a "FAIL" cell marked class="fail",
// inside a <div class="`box_class`"> (.scroll: it scrolls sideways in its box on a narrow screen
// instead of widening the page).
void HtmlTable(const DocumentTable& t, std::string* out, absl::string_view box_class = "scroll");
// A table cell's text, escaped, with each bracketed interval ("[0.1839, 0.2482]") kept on one
// line when the cell wraps.
std::string HtmlCell(const std::string& text);

}  // namespace emar

#endif  // EMAR_CLIENT_REPORT_DOCUMENT_H_
