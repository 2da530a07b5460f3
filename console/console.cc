#include "console/console.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/report_document.h"
#include "client/report_flips.h"
#include "client/report_format.h"
#include "client/series_format.h"
#include "console/console_script.h"
#include "console/url.h"

namespace emar {
namespace {

constexpr size_t kMaxSummaries = 20000;

bool IsJobId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

bool Done(const emar::v1::Job& job) {
  return job.state() == emar::v1::JOB_STATE_SUCCEEDED ||
         job.state() == emar::v1::JOB_STATE_FAILED || job.state() == emar::v1::JOB_STATE_CANCELLED;
}

HttpResponse Text(int status, const std::string& text) {
  return HttpResponse{status, "text/plain; charset=utf-8", {}, text + "\n"};
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r = Text(303, "see " + location);
  r.headers.emplace_back("Location", location);
  return r;
}

// Where to go after logging in: a path of this console, never another site ("//host").
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || absl::StartsWith(next, "//") ||
      next.find('\\') != std::string::npos || next.find_first_of("\r\n") != std::string::npos) {
    return "/";
  }
  return next;
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// "K=V" -> (K, V); an error naming the parameter otherwise.
absl::StatusOr<std::pair<std::string, std::string>> LabelParam(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("label '", text, "' is not KEY=VALUE"));
  }
  return std::pair{text.substr(0, eq), text.substr(eq + 1)};
}

// The flips page's parameters, each checked: an error naming the parameter otherwise.
absl::StatusOr<FlipsQuery> ParseFlipsQuery(const QueryParams& params) {
  FlipsQuery q;
  q.dataset = FirstParam(params, "dataset").value_or("");
  q.metric = FirstParam(params, "metric").value_or("");
  q.candidate = FirstParam(params, "candidate").value_or("");
  q.kind = FirstParam(params, "kind").value_or("");
  if (q.dataset.empty()) {
    return absl::InvalidArgumentError(
        "the flips page needs dataset=NAME: one of the job's datasets (its report lists them)");
  }
  if (!q.kind.empty() && q.kind != "learned" && q.kind != "forgot") {
    return absl::InvalidArgumentError(
        absl::StrCat("kind '", q.kind, "' is not learned or forgot (leave it out for both)"));
  }
  const std::string page = FirstParam(params, "page").value_or("1");
  if (!absl::SimpleAtoi(page, &q.page) || q.page < 1 || q.page > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page '", page, "' is not a page number (1, 2, ...)"));
  }
  return q;
}

// The report's flips counts for `q`: one line per candidate into `lines`; returns how many items
// the listing has (0 when the report has no counts for them).
int64_t CountFlips(const emar::v1::Report& report, const FlipsQuery& q,
                   std::vector<std::string>* lines) {
  int64_t total = 0;
  for (const emar::v1::CandidateReport& c : report.candidates()) {
    if (!q.candidate.empty() && c.name() != q.candidate) continue;
    for (const emar::v1::DatasetComparison& d : c.datasets()) {
      if (d.dataset() != q.dataset || !d.has_flips()) continue;
      if (q.metric.empty() ? !d.primary() : d.metric() != q.metric) continue;
      const emar::v1::FlipCounts& f = d.flips();
      if (q.kind != "forgot") total += f.learned();
      if (q.kind != "learned") total += f.forgot();
      lines->push_back(absl::StrCat(c.name(), " on ", d.dataset(), " (", d.metric(),
                                    "): ", f.learned(), " learned, ", f.forgot(), " forgot, of ",
                                    f.items(), " items"));
    }
  }
  return total;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Console>> Console::Start(ConsoleOptions options, ClientCore* core,
                                                        const Authenticator* auth) {
  std::unique_ptr<Console> c(new Console(std::move(options), core, auth));
  HttpServerOptions http{.listen = c->options_.listen,
                         .flag = "--console-listen",
                         .tls = c->options_.tls,
                         .threads = c->options_.threads};
  auto server = HttpServer::Start(std::move(http),
                                  [p = c.get()](const HttpRequest& r) { return p->Handle(r); });
  if (!server.ok()) return server.status();
  c->http_ = std::move(*server);
  return c;
}

Console::~Console() { http_.reset(); }

HttpResponse Console::Handle(const HttpRequest& request) {
  HttpResponse r = Route(request);
  r.headers.emplace_back("Content-Security-Policy", ConsoleContentSecurityPolicy());
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with the
  // login form, which Login could not tell from a foreign page.
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string Console::CookieName(bool tls) const {
  return tls ? "__Host-emar_session" : "emar_session";
}

std::optional<Console::Caller> Console::Identify(const HttpRequest& request,
                                                 HttpResponse* refusal) {
  Caller caller;
  if (!auth_->enabled()) {
    caller.who = Principal::Anonymous();
    return caller;
  }
  if (std::optional<std::string> bearer = request.Header("authorization")) {
    absl::StatusOr<Principal> who = auth_->Authorize(*bearer, Api::kClient);
    if (!who.ok()) {
      *refusal = Text(who.status().code() == absl::StatusCode::kPermissionDenied ? 403 : 401,
                      std::string(who.status().message()));
      return std::nullopt;
    }
    caller.who = *who;
    caller.viewer.principal = who->name;
    return caller;
  }
  if (std::optional<std::string> cookies = request.Header("cookie")) {
    if (std::optional<std::string> id = CookieValue(*cookies, CookieName(request.tls))) {
      std::optional<Session> s = sessions_.Find(*id);
      if (s && !auth_->Holds(s->who)) {  // its token was removed (a reload, or a restart)
        sessions_.Remove(*id);
        s.reset();
      }
      if (s) {
        caller.who = s->who;
        caller.viewer = Viewer{s->who.name, s->csrf};
        caller.session_id = *id;
        return caller;
      }
    }
  }
  // Pages send the browser to the login form; what the pages' script fetches gets a 401.
  const bool page = request.method == "GET" && !absl::EndsWith(request.path, "/status") &&
                    !absl::EndsWith(request.path, ".part") && request.path != "/runs/part";
  if (page) {
    const std::string here =
        request.query.empty() ? request.path : absl::StrCat(request.path, "?", request.query);
    *refusal = Redirect("/login?next=" + PercentEncode(here));
  } else {
    *refusal = Text(401, "log in first (POST /login) or send Authorization: Bearer TOKEN");
  }
  return std::nullopt;
}

HttpResponse Console::Route(const HttpRequest& request) {
  if (request.path == "/login") {
    if (request.method == "POST") return Login(request);
    if (!auth_->enabled()) return Redirect("/");
    const std::string next = FirstParam(ParseQuery(request.query), "next").value_or("/");
    return HttpResponse{200, "text/html; charset=utf-8", {}, LoginPage(SafeNext(next), "")};
  }
  HttpResponse refusal;
  std::optional<Caller> caller = Identify(request, &refusal);
  if (!caller) return refusal;
  if (request.path == "/logout") {
    if (request.method != "POST") return Text(405, "log out with POST (the form's button)");
    return Logout(request, *caller);
  }
  if (request.method != "GET") return Text(405, "only the login and logout forms POST");
  if (request.path == "/") return Jobs(request, *caller);
  if (request.path == "/runs") return Runs(request, *caller, false);
  if (request.path == "/runs/part") return Runs(request, *caller, true);
  if (request.path == "/compare") return Compare(request, *caller);
  if (absl::StartsWith(request.path, "/jobs/")) {
    const std::vector<std::string> parts =
        absl::StrSplit(request.path.substr(6), absl::MaxSplits('/', 1));
    const std::string what = parts.size() > 1 ? parts[1] : "";
    if (IsJobId(parts[0]) && what == "flips") return Flips(parts[0], request, *caller);
    if (IsJobId(parts[0])) return JobRoute(parts[0], what, *caller);
  }
  return Page("Not found", *caller, MessageMain("Not found", "There is no such page."), false, 404);
}

HttpResponse Console::Login(const HttpRequest& request) {
  if (std::optional<std::string> origin = request.Header("origin")) {
    const std::string self =
        absl::StrCat(request.tls ? "https://" : "http://", request.Header("host").value_or(""));
    if (*origin != self) return Text(403, "a login must come from the console's own form");
  }
  if (!auth_->enabled()) return Redirect("/");
  const QueryParams form = ParseQuery(request.body);
  const std::string next = SafeNext(FirstParam(form, "next").value_or("/"));
  const std::string token = FirstParam(form, "token").value_or("");
  absl::StatusOr<Principal> who =
      token.empty() ? absl::UnauthenticatedError("no token")
                    : auth_->Authorize(absl::StrCat("Bearer ", token), Api::kClient);
  if (!who.ok()) {
    const bool denied = who.status().code() == absl::StatusCode::kPermissionDenied;
    return HttpResponse{denied ? 403 : 401,
                        "text/html; charset=utf-8",
                        {},
                        LoginPage(next, denied ? "A worker token cannot open the console."
                                               : "That token is not accepted.")};
  }
  const std::string id = sessions_.Create(*who);
  HttpResponse r = Redirect(next);
  r.headers.emplace_back(
      "Set-Cookie", absl::StrCat(CookieName(request.tls), "=", id,
                                 "; Path=/; Max-Age=", absl::ToInt64Seconds(sessions_.lifetime()),
                                 "; HttpOnly; SameSite=Strict", request.tls ? "; Secure" : ""));
  return r;
}

HttpResponse Console::Logout(const HttpRequest& request, const Caller& caller) {
  const std::string csrf = FirstParam(ParseQuery(request.body), "csrf").value_or("");
  if (caller.session_id.empty() || !SameSecret(csrf, caller.viewer.csrf)) {
    return Text(403, "this logout form is not from your session");
  }
  sessions_.Remove(caller.session_id);
  HttpResponse r = Redirect("/login");
  r.headers.emplace_back("Set-Cookie", absl::StrCat(CookieName(request.tls),
                                                    "=; Path=/; Max-Age=0; HttpOnly; "
                                                    "SameSite=Strict",
                                                    request.tls ? "; Secure" : ""));
  return r;
}

HttpResponse Console::Page(const std::string& title, const Caller& caller, const std::string& main,
                           bool live, int status) {
  return HttpResponse{
      status, "text/html; charset=utf-8", {}, ConsolePage(title, caller.viewer, main, live)};
}

HttpResponse Console::Failure(const absl::Status& status, const Caller& caller) {
  int code = 500;
  std::string heading = "Error";
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return Page("Not found", caller, MessageMain("Not found", "There is no such job."), false,
                  404);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted:
      code = 400;
      heading = "Bad request";
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = 409;
      heading = "Not yet";
      break;
    case absl::StatusCode::kUnavailable:
      code = 503;
      heading = "Unavailable";
      break;
    default:
      break;
  }
  return Page(heading, caller, MessageMain(heading, std::string(status.message())), false, code);
}

JobSummary Console::SummaryOf(const emar::v1::Job& job, const Principal& who) {
  if (job.state() != emar::v1::JOB_STATE_SUCCEEDED) return JobSummary{};
  {
    absl::MutexLock lock(&summaries_mu_);
    if (auto it = summaries_.find(job.job_id()); it != summaries_.end()) return it->second;
  }
  absl::StatusOr<emar::v1::Report> report = core_->GetReport(job.job_id(), who);
  if (!report.ok()) return JobSummary{};
  JobSummary s = SummarizeReport(*report);
  absl::MutexLock lock(&summaries_mu_);
  if (summaries_.size() >= kMaxSummaries) summaries_.clear();
  summaries_[job.job_id()] = s;
  return s;
}

HttpResponse Console::Jobs(const HttpRequest& request, const Caller& caller) {
  const QueryParams params = ParseQuery(request.query);
  JobsFilter filter;
  emar::v1::ListJobsRequest list;
  list.set_limit(options_.page_size);
  for (const std::string& text : AllParams(params, "label")) {
    if (text.empty()) continue;  // the form's empty field
    absl::StatusOr<std::pair<std::string, std::string>> label = LabelParam(text);
    if (!label.ok()) return Failure(label.status(), caller);
    filter.labels.push_back(*label);
    (*list.mutable_labels())[label->first] = label->second;
  }
  for (const std::string& state : AllParams(params, "state")) {
    if (state.empty()) continue;
    emar::v1::JobState value;
    if (!emar::v1::JobState_Parse("JOB_STATE_" + absl::AsciiStrToUpper(state), &value) ||
        value == emar::v1::JOB_STATE_UNSPECIFIED) {
      return Failure(
          absl::InvalidArgumentError(absl::StrCat(
              "state '", state, "' is not one of queued, running, succeeded, failed, cancelled")),
          caller);
    }
    filter.states.push_back(state);
    list.add_states(value);
  }
  filter.page_token = FirstParam(params, "page").value_or("");
  list.set_page_token(filter.page_token);
  absl::StatusOr<emar::v1::ListJobsResponse> page = core_->ListJobs(list, caller.who);
  if (!page.ok()) return Failure(page.status(), caller);
  std::vector<JobSummary> summaries;
  for (const emar::v1::Job& job : page->jobs()) summaries.push_back(SummaryOf(job, caller.who));
  return Page("EMAR jobs", caller, JobsMain(filter, *page, summaries));
}

HttpResponse Console::JobRoute(const std::string& id, const std::string& what,
                               const Caller& caller) {
  absl::StatusOr<emar::v1::Job> job = core_->GetJob(id, caller.who);
  if (!job.ok()) return Failure(job.status(), caller);
  if (what == "status") {
    return HttpResponse{200, "application/json", {}, JobStatusJson(*job)};
  }
  const bool succeeded = job->state() == emar::v1::JOB_STATE_SUCCEEDED;
  if (what.empty()) {
    std::string part;
    if (succeeded) {
      absl::StatusOr<emar::v1::Report> report = core_->GetReport(id, caller.who);
      if (!report.ok()) return Failure(report.status(), caller);
      part = ReportPart(*report);
    }
    return Page(absl::StrCat("EMAR job: ", job->name()), caller, JobMain(*job, part), !Done(*job));
  }
  if (what != "report.part" && what != "report.json" && what != "report.md" &&
      what != "report.html") {
    return Page("Not found", caller, MessageMain("Not found", "There is no such page."), false,
                404);
  }
  absl::StatusOr<emar::v1::Report> report = core_->GetReport(id, caller.who);
  if (!report.ok()) return Failure(report.status(), caller);
  if (what == "report.part")
    return HttpResponse{200, "text/html; charset=utf-8", {}, ReportPart(*report)};
  if (what == "report.json")
    return HttpResponse{200, "application/json", {}, ReportToJson(*report)};
  if (what == "report.md") {
    return HttpResponse{200, "text/plain; charset=utf-8", {}, ReportToMarkdown(*report)};
  }
  return HttpResponse{200, "text/html; charset=utf-8", {}, ReportToHtml(*report)};
}

HttpResponse Console::Flips(const std::string& id, const HttpRequest& request,
                            const Caller& caller) {
  absl::StatusOr<emar::v1::Job> job = core_->GetJob(id, caller.who);
  if (!job.ok()) return Failure(job.status(), caller);  // another's job: 404 before anything
  const QueryParams params = ParseQuery(request.query);
  FlipsView view;
  view.job_id = id;
  view.job_name = job->name();
  view.page_size = std::max(options_.flips_page_size, 1);
  absl::StatusOr<FlipsQuery> query = ParseFlipsQuery(params);
  if (!query.ok()) return Failure(query.status(), caller);
  view.query = *query;
  const FlipsQuery& q = view.query;
  if (job->state() != emar::v1::JOB_STATE_SUCCEEDED) {
    return Failure(absl::FailedPreconditionError(
                       absl::StrCat("job '", id, "' is ", StateName(job->state()),
                                    Done(*job) ? ": it has no report, so no flips"
                                               : ": its flips are listed once it has succeeded")),
                   caller);
  }
  absl::StatusOr<emar::v1::Report> report = core_->GetReport(id, caller.who);
  if (!report.ok()) return Failure(report.status(), caller);
  const int64_t first = static_cast<int64_t>(q.page - 1) * view.page_size;
  view.total = CountFlips(*report, q, &view.counts);
  emar::v1::ListFlipsRequest list;
  list.set_job_id(id);
  list.set_dataset(q.dataset);
  list.set_metric(q.metric);
  list.set_candidate(q.candidate);
  list.set_kind(q.kind);
  // The first `first + page_size` items of the listing are among each (candidate, kind)'s first
  // that many: the store is read once either way, but fewer items are built. Without counts in
  // the report (a metric without flips: ListFlips says why), everything.
  if (view.total > 0) list.set_limit(static_cast<int32_t>(first + view.page_size));
  list.set_max_chars(kFlipsReadableChars);
  absl::StatusOr<std::vector<emar::v1::FlipItem>> items = core_->ListFlips(list, caller.who);
  if (!items.ok()) return Failure(items.status(), caller);
  if (view.total == 0) view.total = static_cast<int64_t>(items->size());
  if (first > 0 && first >= view.total) {
    return Page("Not found", caller,
                MessageMain("Not found",
                            absl::StrCat("Page ", q.page, " is past the last page (",
                                         std::max<int64_t>(
                                             1, (view.total + view.page_size - 1) / view.page_size),
                                         ") of these flips.")),
                false, 404);
  }
  const auto begin = items->begin() + std::min<int64_t>(first, items->size());
  const auto end = items->begin() + std::min<int64_t>(first + view.page_size, items->size());
  const std::string listing = BodyOf(FlipsPage(absl::StrCat("Flips of job ", id, " on ", q.dataset),
                                               std::vector(begin, end), FlipsIntro(view)));
  return Page(absl::StrCat("EMAR flips: ", job->name(), " on ", q.dataset), caller,
              FlipsMain(view, listing));
}

HttpResponse Console::Runs(const HttpRequest& request, const Caller& caller, bool part_only) {
  const QueryParams params = ParseQuery(request.query);
  emar::v1::GetSeriesRequest series_request;
  std::vector<std::string> labels;
  for (const std::string& text : AllParams(params, "label")) {
    if (text.empty()) continue;
    absl::StatusOr<std::pair<std::string, std::string>> label = LabelParam(text);
    if (!label.ok()) return Failure(label.status(), caller);
    (*series_request.mutable_labels())[label->first] = label->second;
    labels.push_back(text);
  }
  const std::string by = FirstParam(params, "by").value_or("");
  const std::string dataset = FirstParam(params, "dataset").value_or("");
  series_request.set_by(by);
  series_request.set_dataset(dataset);
  const std::string labels_text = labels.empty() ? "" : labels[0];
  if (labels.empty() || by.empty()) {
    if (part_only) return Failure(absl::InvalidArgumentError("need label= and by="), caller);
    return Page("EMAR runs", caller, RunsMain(labels_text, by, dataset, "", ""));
  }
  absl::StatusOr<emar::v1::Series> series = core_->GetSeries(series_request, caller.who);
  if (!series.ok()) return Failure(series.status(), caller);
  const std::string part = BodyOf(SeriesToHtml(*series, dataset));
  if (part_only) return HttpResponse{200, "text/html; charset=utf-8", {}, part};
  return Page(absl::StrCat("EMAR run: ", labels_text), caller,
              RunsMain(labels_text, by, dataset, "/runs/part?" + request.query, part), true);
}

HttpResponse Console::Compare(const HttpRequest& request, const Caller& caller) {
  const QueryParams params = ParseQuery(request.query);
  const std::string a = FirstParam(params, "a").value_or("");
  const std::string b = FirstParam(params, "b").value_or("");
  if (a.empty() || b.empty()) return Page("EMAR: compare", caller, CompareForm(a, b));
  emar::v1::Job jobs[2];
  emar::v1::Report reports[2];
  for (int i = 0; i < 2; ++i) {
    const std::string& id = i == 0 ? a : b;
    absl::StatusOr<emar::v1::Job> job =
        IsJobId(id) ? core_->GetJob(id, caller.who) : absl::NotFoundError(id);
    if (!job.ok()) return Failure(job.status(), caller);
    absl::StatusOr<emar::v1::Report> report = core_->GetReport(id, caller.who);
    if (!report.ok()) return Failure(report.status(), caller);
    jobs[i] = std::move(*job);
    reports[i] = std::move(*report);
  }
  return Page("EMAR: compare", caller, CompareMain(jobs[0], reports[0], jobs[1], reports[1]));
}

}  // namespace emar
