// The console's pages as HTML, from the coordinator's messages, with no I/O: the frame (head,
// navigation, the principal and its logout form), the jobs list, a job's page, a run's series,
// two jobs compared, the login form, and messages (not found, bad request). Reports and series
// are drawn by the client's renderers (client/report_document.h, client/series_format.h): the
// console takes the body of their self-contained pages and frames it, so there is one rendering
// path for emarctl's files and the console.
#ifndef EMAR_CONSOLE_CONSOLE_PAGES_H_
#define EMAR_CONSOLE_CONSOLE_PAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"

namespace emar {

// Who is looking, for the frame's corner.
struct Viewer {
  std::string principal;  // empty without --tokens
  std::string csrf;       // the session's CSRF token; empty: no logout form (bearer, no tokens)
};

// A finished job's line in the list.
struct JobSummary {
  std::string emar;   // the best-ranked candidate's EMAR with its interval ("" if none)
  std::string gates;  // "PASS", "FAIL" or "" (no gates)
};

// A whole console page: `title`, the navigation, then `main`. With `live`, the page carries the
// console's script (console/console_script.h).
std::string ConsolePage(const std::string& title, const Viewer& viewer, const std::string& main,
                        bool live = false);

// The jobs list's filter, as the query string carries it.
struct JobsFilter {
  std::vector<std::pair<std::string, std::string>> labels;  // label=K=V, repeatable
  std::vector<std::string> states;                          // state=running, repeatable
  std::string page_token;                                   // page=TOKEN
};
// The query string of `filter` (without '?'), on page `page_token`.
std::string JobsQuery(const JobsFilter& filter, const std::string& page_token);
// The jobs, newest first, with their summaries (same order), and a link to the next page.
std::string JobsMain(const JobsFilter& filter, const emar::v1::ListJobsResponse& page,
                     const std::vector<JobSummary>& summaries);
JobSummary SummarizeReport(const emar::v1::Report& report);

// A job's page: its state and progress (live while it runs), its labels, then `report_part`
// (empty until it succeeded) with links to the report as JSON, Markdown and HTML.
std::string JobMain(const emar::v1::Job& job, const std::string& report_part);
// The small JSON the job page polls: state, progress and its text, done, error, has_report.
std::string JobStatusJson(const emar::v1::Job& job);
// "3 of 70 shards · 300 examples" (plus reused shards when some are).
std::string ProgressText(const emar::v1::JobProgress& progress);
// "RUNNING" -> "running".
std::string StateName(emar::v1::JobState state);

// The body of a self-contained page (between <body> and </body>), to frame in a console page.
std::string BodyOf(const std::string& page);
// The report drawn as emarctl draws it (--format html), without its page, its flips counts
// linking to the flips pages (FlipsUrl).
std::string ReportPart(const emar::v1::Report& report);

// What a flips page (/jobs/ID/flips) lists: its query parameters.
struct FlipsQuery {
  std::string dataset;    // dataset=D, required
  std::string metric;     // metric=M; empty: the dataset's primary metric
  std::string candidate;  // candidate=NAME; empty: every candidate
  std::string kind;       // kind=learned|forgot; empty: both
  int page = 1;           // page=N, from 1
};
// "/jobs/ID/flips?dataset=D..." (empty parameters and page 1 left out), not yet HTML-escaped.
std::string FlipsUrl(const std::string& job_id, const FlipsQuery& q);
// A flips page: `listing` (the body of emarctl flips --format html's page for this page's items,
// drawn with FlipsIntro as its intro) between a link back to the job and the pager ("Items
// 201-400 of 523", previous, next).
struct FlipsView {
  std::string job_id;
  std::string job_name;
  FlipsQuery query;
  int page_size = 0;
  int64_t total = 0;  // items of the whole listing, every page
  std::vector<std::string> counts;
};
// What goes under the listing's heading: the counts (a line per candidate) and links to both
// kinds, learned and forgot.
std::string FlipsIntro(const FlipsView& view);
std::string FlipsMain(const FlipsView& view, const std::string& listing);

// The series page: its form (labels, by, dataset) and the live part at `part_url`.
std::string RunsMain(const std::string& labels_text, const std::string& by,
                     const std::string& dataset, const std::string& part_url,
                     const std::string& part);
// Two jobs' candidates side by side: per candidate name, each job's EMAR, deltas and gates.
std::string CompareMain(const emar::v1::Job& a, const emar::v1::Report& ra, const emar::v1::Job& b,
                        const emar::v1::Report& rb);
// The form asking for two job ids.
std::string CompareForm(const std::string& a, const std::string& b);

// The login form; `message` (escaped) above it when a token was refused.
std::string LoginPage(const std::string& next, const std::string& message);
// A page with a heading and one paragraph.
std::string MessageMain(const std::string& heading, const std::string& text);

// HTML text: & < > " ' escaped.
std::string Esc(const std::string& s);

}  // namespace emar

#endif  // EMAR_CONSOLE_CONSOLE_PAGES_H_
