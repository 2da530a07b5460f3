// emarctl run and submit: evaluate a job file in this process, or send it to a coordinator.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/job_file.h"
#include "common/json_string.h"
#include "embedded/embedded_coordinator.h"
#include "eval/job/job_defaults.h"

ABSL_FLAG(bool, wait, false, "submit: wait for the job and print its report");
ABSL_FLAG(bool, no_cache, false,
          "run, submit: score every shard afresh, reusing no statistics from the score cache");
ABSL_FLAG(std::string, request_id, "",
          "submit: idempotency key (same key, same job; default: a random one, shown with "
          "the progress)");
ABSL_FLAG(int32_t, workers, 2, "run: worker threads of the embedded coordinator");
ABSL_FLAG(int64_t, rows_per_shard, emar::kDefaultRowsPerShard,
          "run: rows per shard in the embedded coordinator");
ABSL_FLAG(std::string, data_dir, "",
          "run: keep the embedded coordinator's state here (default: a temp dir)");
// Inputs by reference in the embedded coordinator (docs/inputs.md), as emar-coordinator's flags.
// Declared for --help only: every --input-root is taken out of argv before Abseil parses it.
ABSL_FLAG(std::vector<std::string>, input_root, {},
          "run: a directory whose files the job may name as file:// inputs (repeatable; default "
          "none: file:// inputs are refused)");
ABSL_FLAG(bool, allow_private_urls, false,
          "run: let https:// inputs connect to loopback, link-local, private and unspecified "
          "addresses");
ABSL_FLAG(std::string, url_ca_file, "",
          "run: PEM CA bundle for https:// inputs, instead of the system's (a private CA)");
ABSL_FLAG(std::optional<double>, min_emar, std::nullopt,
          "run/submit: gate: lower CI bound of EMAR >= x");
ABSL_FLAG(std::optional<double>, max_benchmark_regression, std::nullopt,
          "run/submit: gate: lower CI bound of the benchmark delta >= -x");
ABSL_FLAG(std::optional<double>, min_target_gain, std::nullopt,
          "run/submit: gate: lower CI bound of the target delta >= x");

namespace emar {
namespace {

// How long submit keeps retrying a coordinator that is UNAVAILABLE, without --timeout.
constexpr absl::Duration kSubmitRetry = absl::Seconds(60);

// Submit's hashing and upload progress, for the display (if any).
EvaluationClient::TransferCallback TransferTo(ProgressDisplay* progress) {
  if (progress == nullptr) return nullptr;
  return [progress](const std::string& phase, int64_t done, int64_t total) {
    progress->Transfer(phase, done, total);
  };
}

// Submit's retries after UNAVAILABLE: until --timeout, or kSubmitRetry without one; each said
// on the progress output with the request id.
SubmitRetry SubmitRetryOf(ProgressDisplay* progress, const std::string& request_id) {
  SubmitRetry retry;
  retry.until =
      WaitDeadline() == absl::InfiniteFuture() ? absl::Now() + kSubmitRetry : WaitDeadline();
  if (progress == nullptr) return retry;
  // Shaped like the progress lines ("emarctl: [phase] ..."), which scripts set apart from the
  // error line.
  progress->Note("[submit] request id " + request_id);
  retry.on_retry = [progress, request_id](const absl::Status& why, absl::Duration wait) {
    progress->Note(absl::StrCat("[retrying] ", why.message(), "; trying again in ",
                                absl::FormatDuration(wait), " (request id ", request_id, ")"));
  };
  return retry;
}

// Waits for the job, then prints its report (or fails with the job's error).
int FollowAndReport(Session& session, const std::string& job_id, ProgressDisplay* progress) {
  auto done = session.client.Watch(
      job_id,
      [&](const emar::v1::Job& j) {
        if (progress) progress->Update(j);
      },
      WaitDeadline());
  if (progress) progress->Finish();
  if (!done.ok()) return FailCall(session, done.status());
  if (done->state() != emar::v1::JOB_STATE_SUCCEEDED) {
    std::string state = absl::AsciiStrToLower(emar::v1::JobState_Name(done->state()));
    absl::StrReplaceAll({{"job_state_", ""}}, &state);
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "job ", job_id, " ", state, done->error().empty() ? "" : ": ", done->error())));
  }
  auto report = session.client.GetReport(job_id);
  if (!report.ok()) return FailCall(session, report.status());
  return PrintReport(session, *std::move(report));
}

// Loads a job file and applies the gate flags over its `gates`, and --label over its labels.
absl::StatusOr<JobFile> LoadJob(const std::string& path) {
  auto job = LoadJobFile(path);
  if (!job.ok()) return job.status();
  emar::v1::GateSpec* g = job->spec.mutable_gates();
  if (auto v = absl::GetFlag(FLAGS_min_emar)) g->set_min_emar(*v);
  if (auto v = absl::GetFlag(FLAGS_max_benchmark_regression)) g->set_max_benchmark_regression(*v);
  if (auto v = absl::GetFlag(FLAGS_min_target_gain)) g->set_min_target_gain(*v);
  for (const auto& [key, value] : Labels()) (*job->spec.mutable_labels())[key] = value;
  if (absl::GetFlag(FLAGS_no_cache)) job->spec.set_no_cache(true);
  return job;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("run takes one job file");
  auto job = LoadJob(args[0]);
  if (!job.ok()) return Fail(job.status());
  EmbeddedOptions opts;
  opts.worker_threads = absl::GetFlag(FLAGS_workers);
  opts.rows_per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  opts.data_dir = absl::GetFlag(FLAGS_data_dir);
  opts.one_job = true;  // this process exits once the report is printed
  opts.input_fetch.input_roots = InputRoots();
  opts.input_fetch.ca_file = absl::GetFlag(FLAGS_url_ca_file);
  if (absl::Status s = opts.input_fetch.Resolve(); !s.ok()) return Usage(std::string(s.message()));
  opts.input_fetch.allow_private_urls = absl::GetFlag(FLAGS_allow_private_urls);
  auto embedded = EmbeddedCoordinator::Start(opts);
  if (!embedded.ok()) return Fail(embedded.status());
  EvaluationClientOptions client_options;
  client_options.import_file = [e = embedded->get()](const std::string& path) {
    return e->ImportFile(path);
  };
  Session session{.client = EvaluationClient((*embedded)->channel(), client_options)};
  std::unique_ptr<ProgressDisplay> progress = MakeProgress();
  auto created =
      session.client.Submit(*job, absl::GetFlag(FLAGS_request_id), TransferTo(progress.get()));
  if (!created.ok()) {
    progress.reset();
    return Fail(created.status());
  }
  return FollowAndReport(session, created->job_id(), progress.get());
}

int SubmitCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("submit takes one job file");
  auto job = LoadJob(args[0]);
  if (!job.ok()) return Fail(job.status());
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  // One id for every try: a coordinator restarting mid-submit makes one job, and a pipeline step
  // re-run with --request-id ID follows that same job.
  std::string request_id = absl::GetFlag(FLAGS_request_id);
  if (request_id.empty()) request_id = NewRequestId();
  std::unique_ptr<ProgressDisplay> progress = MakeProgress();
  auto created = session->client.Submit(*job, request_id, TransferTo(progress.get()),
                                        SubmitRetryOf(progress.get(), request_id));
  if (!created.ok()) {
    progress.reset();
    return FailCall(*session, created.status());
  }
  if (absl::GetFlag(FLAGS_wait))
    return FollowAndReport(*session, created->job_id(), progress.get());
  progress.reset();
  if (Json()) {
    std::cout << "{\"job_id\": " << JsonString(created->job_id()) << "}" << std::endl;
  } else {
    std::cout << created->job_id() << std::endl;
  }
  return 0;
}

}  // namespace emar
