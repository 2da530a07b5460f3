#include "bench/load/outcome_checker.h"

#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/job_state.h"

namespace emar::load {
namespace {

using emar::v1::Job;
using emar::v1::JobState;

// "SUCCEEDED" rather than "JOB_STATE_SUCCEEDED".
std::string StateName(JobState s) {
  std::string name = emar::v1::JobState_Name(s);
  return absl::StartsWith(name, "JOB_STATE_") ? name.substr(10) : name;
}

std::string Describe(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

// Exact comparison: both sides divide the same integer counts by the same n.
void ExpectScore(const char* what, const emar::v1::Estimate& e, double want,
                 std::vector<std::string>* problems) {
  if (!e.has_value()) {
    problems->push_back(absl::StrCat(what, " is undefined: ", e.undefined_reason()));
  } else if (e.value() != want) {
    problems->push_back(absl::StrFormat("%s = %.17g, expected %.17g (diff %.3g)", what, e.value(),
                                        want, e.value() - want));
  }
}

void ExpectNear(const char* what, const emar::v1::Estimate& e, double want,
                std::vector<std::string>* problems) {
  if (!e.has_value() || std::abs(e.value() - want) > 1e-12) {
    problems->push_back(
        absl::StrFormat("%s = %.17g, expected %.17g", what, e.has_value() ? e.value() : NAN, want));
  }
}

void CheckReport(const PlannedJob& job, const JobRecord& r, std::vector<std::string>* problems) {
  if (!r.report) {
    problems->push_back(absl::StrCat("GetReport failed: ", Describe(r.report_status)));
    return;
  }
  const emar::v1::Report& report = *r.report;
  if (report.job_id() != r.job_id) {
    problems->push_back(absl::StrCat("report of job '", report.job_id(), "' for ", r.job_id));
  }
  if (report.candidates_size() != 1) {
    problems->push_back(absl::StrCat(report.candidates_size(), " candidates in the report"));
    return;
  }
  const emar::v1::CandidateReport& c = report.candidates(0);
  if (c.target().n() != static_cast<int64_t>(job.n_target) ||
      c.benchmark().n() != static_cast<int64_t>(job.n_benchmark)) {
    problems->push_back(absl::StrCat("n = ", c.target().n(), " / ", c.benchmark().n(),
                                     ", expected ", job.n_target, " / ", job.n_benchmark));
  }
  ExpectScore("T0", c.target().base(), job.t0, problems);
  ExpectScore("T1", c.target().candidate(), job.t1, problems);
  ExpectScore("B0", c.benchmark().base(), job.b0, problems);
  ExpectScore("B1", c.benchmark().candidate(), job.b1, problems);
  ExpectScore("EMAR", c.emar(), (job.t1 - job.t0) / job.t0, problems);
  ExpectNear("dT", c.target().delta(), job.t1 - job.t0, problems);
  ExpectNear("dB", c.benchmark().delta(), job.b1 - job.b0, problems);
}

// The terminal job as Watch ended it and as GetJob shows it afterwards must agree.
void CheckTerminal(const JobRecord& r, std::vector<std::string>* problems) {
  if (!r.watch_status.ok()) {
    problems->push_back(absl::StrCat("Watch failed: ", Describe(r.watch_status)));
    return;
  }
  if (!IsTerminalJobState(r.watched.state())) {
    problems->push_back(absl::StrCat("Watch ended at ", StateName(r.watched.state())));
  }
  if (!r.get_status.ok()) {
    problems->push_back(absl::StrCat("GetJob failed: ", Describe(r.get_status)));
  } else if (r.got.state() != r.watched.state() || r.got.error() != r.watched.error()) {
    problems->push_back(absl::StrCat("Watch ended ", StateName(r.watched.state()),
                                     " but GetJob says ", StateName(r.got.state()), " ",
                                     r.got.error()));
  }
}

void CheckSucceeded(const PlannedJob& job, const JobRecord& r, std::vector<std::string>* problems) {
  const emar::v1::JobProgress& p = r.got.progress();
  if (p.shards_total() <= 0 || p.shards_done() != p.shards_total()) {
    problems->push_back(absl::StrCat("progress ", p.shards_done(), "/", p.shards_total(),
                                     " shards after SUCCEEDED"));
  }
  CheckReport(job, r, problems);
}

// Empty when `error` contains every expected part, else a problem naming the missing ones.
std::string MissingParts(const PlannedJob& job, const std::string& error) {
  std::vector<std::string> missing;
  for (const std::string& want : job.error_parts) {
    if (!absl::StrContains(error, want)) missing.push_back(want);
  }
  if (missing.empty()) return "";
  return absl::StrCat("error '", error, "' lacks: ", absl::StrJoin(missing, " | "));
}

}  // namespace

JobVerdict CheckJob(const PlannedJob& job, const JobRecord& r) {
  JobVerdict v;
  std::vector<std::string>& problems = v.problems;
  if (!r.load_status.ok()) {
    v.outcome = "job file unreadable";
    problems.push_back(Describe(r.load_status));
    return v;
  }
  if (!r.finished) {
    v.outcome = "unfinished";
    problems.push_back("the client never got to the end of this job");
    return v;
  }
  if (job.kind == JobKind::kUnknownMetric) {
    v.outcome = absl::StatusCodeToString(r.submit_status.code());
    if (r.submit_status.code() != absl::StatusCode::kInvalidArgument) {
      problems.push_back(absl::StrCat("CreateJob answered ", Describe(r.submit_status),
                                      ", expected INVALID_ARGUMENT"));
    } else if (std::string p = MissingParts(job, std::string(r.submit_status.message()));
               !p.empty()) {
      problems.push_back(p);
    }
    return v;
  }
  if (!r.submit_status.ok()) {
    v.outcome = absl::StrCat("submit ", absl::StatusCodeToString(r.submit_status.code()));
    problems.push_back(absl::StrCat("Submit failed: ", Describe(r.submit_status)));
    return v;
  }
  v.outcome = r.watch_status.ok()
                  ? StateName(r.watched.state())
                  : absl::StrCat("watch ", absl::StatusCodeToString(r.watch_status.code()));
  CheckTerminal(r, &problems);
  if (!problems.empty()) return v;
  const JobState state = r.got.state();

  switch (job.kind) {
    case JobKind::kGood:
      if (!r.resubmit_status.ok()) {
        problems.push_back(
            absl::StrCat("the retried Submit failed: ", Describe(r.resubmit_status)));
      } else if (r.resubmit_job_id != r.job_id) {
        problems.push_back(absl::StrCat("the retried Submit (same request id) made job ",
                                        r.resubmit_job_id, " beside ", r.job_id));
      }
      if (state != emar::v1::JOB_STATE_SUCCEEDED) {
        problems.push_back(absl::StrCat("ended ", StateName(state), ": ", r.got.error()));
      } else {
        CheckSucceeded(job, r, &problems);
      }
      break;
    case JobKind::kCancel:
      if (!r.cancel_status.ok()) {
        problems.push_back(absl::StrCat("CancelJob failed: ", Describe(r.cancel_status)));
      } else if (r.cancel_state != emar::v1::JOB_STATE_CANCELLED &&
                 r.cancel_state != emar::v1::JOB_STATE_SUCCEEDED) {
        problems.push_back(absl::StrCat("CancelJob answered ", StateName(r.cancel_state)));
      } else if (state != r.cancel_state) {
        problems.push_back(absl::StrCat("CancelJob answered ", StateName(r.cancel_state),
                                        " but the job ended ", StateName(state)));
      }
      if (state == emar::v1::JOB_STATE_SUCCEEDED) {
        CheckSucceeded(job, r, &problems);
      } else if (state == emar::v1::JOB_STATE_CANCELLED) {
        if (r.report || r.report_status.code() != absl::StatusCode::kFailedPrecondition) {
          problems.push_back(absl::StrCat("GetReport of a cancelled job answered ",
                                          r.report ? "a report" : Describe(r.report_status)));
        }
      }
      break;
    default: {  // bad outputs: FAILED with the precise error
      if (state != emar::v1::JOB_STATE_FAILED) {
        problems.push_back(absl::StrCat("ended ", StateName(state), ", expected FAILED"));
        break;
      }
      if (std::string p = MissingParts(job, r.got.error()); !p.empty()) problems.push_back(p);
      // An input error fails the job at once; retrying the shard cannot help.
      if (absl::StrContains(r.got.error(), "; last error: ")) {
        problems.push_back(absl::StrCat("failed only after retries: ", r.got.error()));
      }
      break;
    }
  }
  return v;
}

std::vector<std::string> CheckListing(const std::vector<const PlannedJob*>& planned,
                                      const std::vector<const JobRecord*>& records,
                                      const std::vector<Job>& listed) {
  std::vector<std::string> problems;
  std::map<std::string, std::vector<const Job*>> by_request;
  for (const Job& j : listed) by_request[j.request_id()].push_back(&j);
  size_t created = 0;
  for (size_t i = 0; i < planned.size(); ++i) {
    const PlannedJob& p = *planned[i];
    const JobRecord& r = *records[i];
    auto it = by_request.find(p.name);
    const size_t n = it == by_request.end() ? 0 : it->second.size();
    if (!r.submit_status.ok()) {
      if (n != 0) {
        problems.push_back(
            absl::StrCat("ListJobs shows ", n, " job(s) for ", p.name, ", whose CreateJob failed"));
      }
    } else if (n != 1) {
      ++created;
      problems.push_back(absl::StrCat("ListJobs shows ", n, " jobs for request id ", p.name,
                                      n == 0 ? " (lost)" : " (duplicated)"));
    } else {
      ++created;
      const Job& j = *it->second[0];
      if (j.job_id() != r.job_id) {
        problems.push_back(absl::StrCat("ListJobs: ", p.name, " is job ", j.job_id(),
                                        ", the client got ", r.job_id));
      }
      if (j.name() != p.name) {
        problems.push_back(absl::StrCat("ListJobs: ", j.job_id(), " is named '", j.name(), "'"));
      }
      if (!IsTerminalJobState(j.state()) || j.state() != r.got.state()) {
        problems.push_back(absl::StrCat("ListJobs: ", p.name, " is ", StateName(j.state()),
                                        ", the client saw ", StateName(r.got.state())));
      }
    }
    if (it != by_request.end()) by_request.erase(it);
  }
  for (const auto& [request_id, jobs] : by_request) {
    for (const Job* j : jobs) {
      problems.push_back(absl::StrCat("ListJobs shows job ", j->job_id(), " (request id '",
                                      request_id, "') that no client created"));
    }
  }
  if (listed.size() != created) {
    problems.push_back(
        absl::StrCat("ListJobs returned ", listed.size(), " jobs, ", created, " were created"));
  }
  return problems;
}

std::vector<std::string> CheckIdenticalInputsAgree(const std::vector<const PlannedJob*>& planned,
                                                   const std::vector<const JobRecord*>& records) {
  std::vector<std::string> problems;
  std::map<std::pair<size_t, size_t>, std::pair<const PlannedJob*, emar::v1::Report>> first;
  for (size_t i = 0; i < planned.size(); ++i) {
    const PlannedJob& p = *planned[i];
    const JobRecord& r = *records[i];
    if (IsBad(p.kind) || !r.report) continue;
    emar::v1::Report report = *r.report;
    report.clear_job_id();
    report.clear_name();
    auto [it, inserted] = first.try_emplace({p.n_target, p.n_benchmark}, &p, report);
    if (inserted) continue;
    google::protobuf::util::MessageDifferencer diff;
    std::string what;
    diff.ReportDifferencesToString(&what);
    if (!diff.Compare(it->second.second, report)) {
      problems.push_back(absl::StrCat("reports of ", it->second.first->name, " and ", p.name,
                                      " (identical inputs) differ: ", what));
    }
  }
  return problems;
}

}  // namespace emar::load
