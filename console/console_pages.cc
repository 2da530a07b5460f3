#include "console/console_pages.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/report_document.h"
#include "client/svg_plot.h"
#include "common/json_string.h"
#include "console/console_script.h"
#include "console/url.h"

namespace emar {
namespace {

using emar::v1::Estimate;
using emar::v1::Job;
using emar::v1::Report;

// The console's own style, after the reports' (HtmlPageHead): a navigation bar, the jobs table,
// and what keeps every page inside a phone's width (tables scroll rather than widen the page).
constexpr char kConsoleStyle[] =
    "body{margin:1em auto;padding:0 1em}"
    "header{display:flex;flex-wrap:wrap;gap:0.4em 1.2em;align-items:center;"
    "border-bottom:1px solid #ccc;padding-bottom:0.5em;margin-bottom:1em}"
    "header a{text-decoration:none;font-weight:bold}header .who{margin-left:auto;color:#555}"
    "header form{margin:0}"
    "main table{display:block;overflow-x:auto;max-width:100%}"
    "h1,h2,p,li{overflow-wrap:anywhere}"
    "form.filters{display:flex;flex-wrap:wrap;gap:0.5em 1em;align-items:end;margin:0.5em 0}"
    "form.filters label{display:flex;flex-direction:column;font-size:0.9em}"
    "input,select,button{font:inherit;max-width:100%}"
    "progress{width:10em;max-width:100%}.meta{color:#555}"
    ".error{color:#b00}.pager{margin:1em 0}";

std::string Fixed(double v, bool signed_value) {
  // Two literal formats: absl checks the format at compile time (clang refuses a runtime one).
  return signed_value ? absl::StrFormat("%+.4f", v) : absl::StrFormat("%.4f", v);
}

// "0.2143 [0.1839, 0.2482]" or "undefined: why".
std::string EstimateText(const Estimate& e, bool signed_value = false) {
  if (!e.has_value()) {
    return absl::StrCat("undefined: ", e.undefined_reason().empty() ? "?" : e.undefined_reason());
  }
  std::string out = Fixed(e.value(), signed_value);
  if (e.has_ci_low() && e.has_ci_high()) {
    absl::StrAppend(&out, " [", Fixed(e.ci_low(), false), ", ", Fixed(e.ci_high(), false), "]");
  }
  return out;
}

std::string LabelsOf(const Job& job) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : job.labels()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> out;
  for (const std::string& k : keys) out.push_back(absl::StrCat(k, "=", job.labels().at(k)));
  return absl::StrJoin(out, ", ");
}

std::string WhenText(int64_t unix_ms) {
  if (unix_ms <= 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string JobLink(const Job& job) { return absl::StrCat("/jobs/", PercentEncode(job.job_id())); }

std::string ProgressBar(const emar::v1::JobProgress& p) {
  return absl::StrCat("<progress max=\"", std::max(p.shards_total(), 1), "\" value=\"",
                      p.shards_done(), "\"></progress>");
}

const char* const kStates[] = {"queued", "running", "succeeded", "failed", "cancelled"};

}  // namespace

std::string Esc(const std::string& s) { return svg::Escape(s); }

std::string StateName(emar::v1::JobState state) {
  switch (state) {
    case emar::v1::JOB_STATE_QUEUED:
      return "queued";
    case emar::v1::JOB_STATE_RUNNING:
      return "running";
    case emar::v1::JOB_STATE_SUCCEEDED:
      return "succeeded";
    case emar::v1::JOB_STATE_FAILED:
      return "failed";
    case emar::v1::JOB_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

std::string ProgressText(const emar::v1::JobProgress& p) {
  std::string out = absl::StrCat(p.shards_done(), " of ", p.shards_total(), " shards · ",
                                 p.examples_scored(), " examples");
  if (p.shards_reused() > 0) absl::StrAppend(&out, " (", p.shards_reused(), " shards reused)");
  return out;
}

std::string ConsolePage(const std::string& title, const Viewer& viewer, const std::string& main,
                        bool live) {
  // The reports' head, without its Content-Security-Policy <meta>: the console's policy comes
  // as a header (console/console_script.h), and a page obeys both, so the meta would block the
  // script.
  std::string head = HtmlPageHead(title);
  const size_t csp = head.find("http-equiv=\"Content-Security-Policy\"");
  if (csp != std::string::npos) {
    const size_t open = head.rfind("<meta", csp);
    const size_t close = head.find('>', csp);
    if (open != std::string::npos && close != std::string::npos) {
      head.erase(open, close + 1 - open + (head[close + 1] == '\n' ? 1 : 0));
    }
  }
  const std::string extra = absl::StrCat(
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<link rel=\"icon\" href=\"data:,\">\n<style>",
      kConsoleStyle, "</style>\n</head>");
  if (const size_t end = head.find("</head>"); end != std::string::npos) {
    head.replace(end, 7, extra);
  }
  std::string out = std::move(head);
  absl::StrAppend(&out, "<header><a href=\"/\">EMAR jobs</a><a href=\"/runs\">Runs</a>",
                  "<a href=\"/compare\">Compare</a>");
  if (!viewer.principal.empty()) {
    absl::StrAppend(&out, "<span class=\"who\">", Esc(viewer.principal), "</span>");
  }
  if (!viewer.csrf.empty()) {
    absl::StrAppend(&out,
                    "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" "
                    "name=\"csrf\" value=\"",
                    Esc(viewer.csrf), "\"><button>Log out</button></form>");
  }
  absl::StrAppend(&out, "</header>\n<main>\n", main, "</main>\n");
  if (live) absl::StrAppend(&out, "<script>", ConsoleScript(), "</script>\n");
  absl::StrAppend(&out, "</body>\n</html>\n");
  return out;
}

std::string JobsQuery(const JobsFilter& filter, const std::string& page_token) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : filter.labels) {
    parts.push_back(absl::StrCat("label=", PercentEncode(absl::StrCat(k, "=", v))));
  }
  for (const std::string& s : filter.states) parts.push_back("state=" + PercentEncode(s));
  if (!page_token.empty()) parts.push_back("page=" + PercentEncode(page_token));
  return absl::StrJoin(parts, "&");
}

JobSummary SummarizeReport(const Report& report) {
  JobSummary s;
  const emar::v1::CandidateReport* best = nullptr;
  bool any_gate = false;
  for (const auto& c : report.candidates()) {
    if (best == nullptr || (c.rank() > 0 && (best->rank() == 0 || c.rank() < best->rank()))) {
      best = &c;
    }
    any_gate = any_gate || c.gates_size() > 0;
  }
  if (best != nullptr) {
    s.emar = absl::StrCat(best->name(), ": ", EstimateText(best->emar()));
    if (report.candidates_size() > 1) {
      absl::StrAppend(&s.emar, " (+", report.candidates_size() - 1, " more)");
    }
  }
  if (any_gate) s.gates = report.gates_passed() ? "PASS" : "FAIL";
  return s;
}

std::string JobsMain(const JobsFilter& filter, const emar::v1::ListJobsResponse& page,
                     const std::vector<JobSummary>& summaries) {
  std::string label_value;
  if (!filter.labels.empty()) {
    label_value = absl::StrCat(filter.labels[0].first, "=", filter.labels[0].second);
  }
  std::string out = absl::StrCat(
      "<h1>Jobs</h1>\n<form class=\"filters\" method=\"get\" action=\"/\"><label>Label "
      "<input name=\"label\" placeholder=\"run=exp-42\" value=\"",
      Esc(label_value), "\"></label><label>State <select name=\"state\"><option value=\"\">any");
  for (const char* state : kStates) {
    const bool chosen =
        std::find(filter.states.begin(), filter.states.end(), state) != filter.states.end();
    absl::StrAppend(&out, "<option", chosen ? " selected" : "", ">", state);
  }
  absl::StrAppend(&out,
                  "</select></label><button>Filter</button></form>\n<table class=\"jobs\">"
                  "<thead><tr><th>Name</th><th>State</th><th>Progress</th><th>EMAR</th>"
                  "<th>Gates</th><th>Labels</th><th>Created</th></tr></thead>\n<tbody>\n");
  for (int i = 0; i < page.jobs_size(); ++i) {
    const Job& job = page.jobs(i);
    const JobSummary summary = i < static_cast<int>(summaries.size()) ? summaries[i] : JobSummary{};
    absl::StrAppend(
        &out, "<tr><td><a href=\"", JobLink(job), "\">", Esc(job.name()), "</a><br><small>",
        Esc(job.job_id()), "</small></td><td>", StateName(job.state()), "</td><td>",
        ProgressBar(job.progress()), " ", job.progress().shards_done(), "/",
        job.progress().shards_total(), "</td><td class=\"ci\">", Esc(summary.emar), "</td>",
        summary.gates == "FAIL" ? "<td class=\"fail\">" : "<td>", summary.gates, "</td><td>",
        Esc(LabelsOf(job)), "</td><td>", WhenText(job.created_unix_ms()), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table>\n");
  if (page.jobs_size() == 0) absl::StrAppend(&out, "<p>No jobs match.</p>\n");
  if (!page.next_page_token().empty()) {
    absl::StrAppend(&out, "<p class=\"pager\"><a rel=\"next\" href=\"/?",
                    Esc(JobsQuery(filter, page.next_page_token())), "\">Older jobs →</a></p>\n");
  }
  return out;
}

std::string JobStatusJson(const Job& job) {
  const bool done = job.state() == emar::v1::JOB_STATE_SUCCEEDED ||
                    job.state() == emar::v1::JOB_STATE_FAILED ||
                    job.state() == emar::v1::JOB_STATE_CANCELLED;
  std::string out = "{\"job_id\": ";
  AppendJsonString(out, job.job_id());
  out += ", \"state\": ";
  AppendJsonString(out, StateName(job.state()));
  absl::StrAppend(&out, ", \"shards_done\": ", job.progress().shards_done(),
                  ", \"shards_total\": ", job.progress().shards_total(),
                  ", \"examples_scored\": ", job.progress().examples_scored(), ", \"progress\": ");
  AppendJsonString(out, ProgressText(job.progress()));
  absl::StrAppend(&out, ", \"done\": ", done ? "true" : "false", ", \"has_report\": ",
                  job.state() == emar::v1::JOB_STATE_SUCCEEDED ? "true" : "false", ", \"error\": ");
  AppendJsonString(out, job.error());
  out += "}\n";
  return out;
}

std::string BodyOf(const std::string& page) {
  const size_t open = page.find("<body>");
  const size_t close = page.rfind("</body>");
  if (open == std::string::npos || close == std::string::npos || close < open) return page;
  return page.substr(open + 6, close - open - 6);
}

std::string ReportPart(const Report& report) { return BodyOf(ReportToHtml(report)); }

std::string JobMain(const Job& job, const std::string& report_part) {
  const std::string link = JobLink(job);
  const bool done = job.state() == emar::v1::JOB_STATE_SUCCEEDED ||
                    job.state() == emar::v1::JOB_STATE_FAILED ||
                    job.state() == emar::v1::JOB_STATE_CANCELLED;
  std::string out =
      absl::StrCat("<h1>", Esc(job.name()), "</h1>\n<p class=\"meta\">", Esc(job.job_id()));
  if (!job.owner().empty()) absl::StrAppend(&out, " · owner ", Esc(job.owner()));
  if (job.labels_size() > 0) absl::StrAppend(&out, " · ", Esc(LabelsOf(job)));
  absl::StrAppend(&out, " · created ", WhenText(job.created_unix_ms()), "</p>\n<div id=\"live\"");
  if (!done) {
    absl::StrAppend(&out, " data-kind=\"job\" data-every=\"1000\" data-status=\"", link,
                    "/status\" data-report=\"", link, "/report.part\"");
  }
  absl::StrAppend(&out, "><p>State <strong class=\"state\">", StateName(job.state()),
                  "</strong> · <span class=\"progress-text\">", Esc(ProgressText(job.progress())),
                  "</span></p>\n<p>", ProgressBar(job.progress()), "</p>\n<p class=\"error\"",
                  job.error().empty() ? " hidden" : "", ">", Esc(job.error()), "</p></div>\n");
  absl::StrAppend(
      &out, "<p id=\"report-links\"", report_part.empty() ? " hidden" : "", ">Report as <a href=\"",
      link, "/report.json\">JSON</a> · <a href=\"", link, "/report.md\">Markdown</a> · <a href=\"",
      link, "/report.html\">HTML</a> · <a href=\"/compare?a=", PercentEncode(job.job_id()),
      "\">compare with another job</a></p>\n<section id=\"report\">", report_part, "</section>\n");
  return out;
}

std::string RunsMain(const std::string& labels_text, const std::string& by,
                     const std::string& dataset, const std::string& part_url,
                     const std::string& part) {
  std::string out = absl::StrCat(
      "<h1>Runs</h1>\n<form class=\"filters\" method=\"get\" action=\"/runs\"><label>Label "
      "<input name=\"label\" required placeholder=\"run=exp-42\" value=\"",
      Esc(labels_text),
      "\"></label><label>By <input name=\"by\" required placeholder=\"step\" value=\"", Esc(by),
      "\"></label><label>Dataset <input name=\"dataset\" placeholder=\"(aggregates)\" "
      "value=\"",
      Esc(dataset), "\"></label><button>Show</button></form>\n");
  if (part_url.empty()) return out;
  absl::StrAppend(&out, "<div id=\"live\" data-kind=\"part\" data-every=\"5000\" data-part=\"",
                  Esc(part_url), "\">", part, "</div>\n");
  return out;
}

std::string CompareForm(const std::string& a, const std::string& b) {
  return absl::StrCat(
      "<h1>Compare two jobs</h1>\n<form class=\"filters\" method=\"get\" action=\"/compare\">"
      "<label>Job A <input name=\"a\" required value=\"",
      Esc(a), "\"></label><label>Job B <input name=\"b\" required value=\"", Esc(b),
      "\"></label><button>Compare</button></form>\n");
}

std::string CompareMain(const Job& a, const Report& ra, const Job& b, const Report& rb) {
  std::string out = CompareForm(a.job_id(), b.job_id());
  absl::StrAppend(&out, "<table><thead><tr><th></th><th>Job</th><th>Labels</th><th>Formula</th>",
                  "</tr></thead><tbody>\n");
  for (const auto& [tag, job, report] : {std::tuple{"A", &a, &ra}, std::tuple{"B", &b, &rb}}) {
    absl::StrAppend(&out, "<tr><td>", tag, "</td><td><a href=\"", JobLink(*job), "\">",
                    Esc(job->name()), "</a><br><small>", Esc(job->job_id()), "</small></td><td>",
                    Esc(LabelsOf(*job)), "</td><td>", Esc(report->formula().expression()),
                    "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table>\n<h2>Candidates side by side</h2>\n<table><thead><tr>",
                  "<th>Candidate</th><th>Job</th><th>Rank</th><th>EMAR</th><th>Target Δ</th>",
                  "<th>Benchmark Δ</th><th>Gates</th></tr></thead><tbody>\n");
  std::vector<std::string> names;
  for (const Report* r : {&ra, &rb}) {
    for (const auto& c : r->candidates()) {
      if (std::find(names.begin(), names.end(), c.name()) == names.end()) names.push_back(c.name());
    }
  }
  for (const std::string& name : names) {
    for (const auto& [tag, report] : {std::pair{"A", &ra}, std::pair{"B", &rb}}) {
      const emar::v1::CandidateReport* c = nullptr;
      for (const auto& x : report->candidates()) {
        if (x.name() == name) c = &x;
      }
      absl::StrAppend(&out, "<tr><td>", Esc(name), "</td><td>", tag, "</td>");
      if (c == nullptr) {
        absl::StrAppend(&out, "<td colspan=\"5\">not in this job</td></tr>\n");
        continue;
      }
      const std::string gates = c->gates_size() == 0 ? "" : (c->gates_passed() ? "PASS" : "FAIL");
      absl::StrAppend(&out, "<td>", c->rank(), "</td><td class=\"ci\">",
                      Esc(EstimateText(c->emar())), "</td><td class=\"ci\">",
                      Esc(EstimateText(c->target().delta(), true)), "</td><td class=\"ci\">",
                      Esc(EstimateText(c->benchmark().delta(), true)), "</td>",
                      gates == "FAIL" ? "<td class=\"fail\">" : "<td>", gates, "</td></tr>\n");
    }
  }
  absl::StrAppend(&out, "</tbody></table>\n");
  return out;
}

std::string LoginPage(const std::string& next, const std::string& message) {
  std::string main = "<h1>Log in</h1>\n";
  if (!message.empty()) absl::StrAppend(&main, "<p class=\"error\">", Esc(message), "</p>\n");
  absl::StrAppend(
      &main,
      "<form class=\"filters\" method=\"post\" action=\"/login\"><input "
      "type=\"hidden\" name=\"next\" value=\"",
      Esc(next),
      "\"><input type=\"text\" name=\"principal\" autocomplete=\"username\" "
      "value=\"emar\" hidden><label>Token <input type=\"password\" name=\"token\" required "
      "autocomplete=\"current-password\"></label><button>Log in</button></form>\n"
      "<p class=\"meta\">The bearer token you give emarctl (EMAR_TOKEN).</p>\n");
  return ConsolePage("EMAR: log in", Viewer{}, main);
}

std::string MessageMain(const std::string& heading, const std::string& text) {
  return absl::StrCat("<h1>", Esc(heading), "</h1>\n<p>", Esc(text), "</p>\n");
}

}  // namespace emar
