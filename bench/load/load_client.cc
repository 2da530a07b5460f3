#include "bench/load/load_client.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/time/clock.h"
#include "client/evaluation_client.h"
#include "client/job_file.h"

namespace emar::load {

std::vector<JobRecord> LoadClient::Run(const std::vector<PlannedJob>& jobs) {
  // The coordinator is never restarted here, so a Watch that loses it need not wait long to
  // re-attach: a run past its deadline kills the coordinator and must get its clients back.
  EvaluationClientOptions options;
  options.watch_reattach = absl::Seconds(10);
  EvaluationClient client(grpc::CreateChannel(server_, grpc::InsecureChannelCredentials()),
                          options);
  std::vector<JobRecord> records(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const PlannedJob& job = jobs[i];
    JobRecord& r = records[i];
    absl::StatusOr<JobFile> file = LoadJobFile(job.job_file);
    if (!file.ok()) {
      r.load_status = file.status();
      continue;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<emar::v1::Job> created = client.Submit(*file, job.name);
    r.submit_status = created.status();
    if (!created.ok()) {
      // Expected for an unknown metric; anything else is judged later. Either way no job to
      // follow.
      r.latency = absl::Now() - start;
      r.finished = true;
      continue;
    }
    r.job_id = created->job_id();
    in_flight_->Add(job.name, r.job_id);
    if (job.kind == JobKind::kCancel) {
      if (job.cancel_delay_ms > 0) absl::SleepFor(absl::Milliseconds(job.cancel_delay_ms));
      r.cancel_sent = true;
      absl::StatusOr<emar::v1::Job> cancelled = client.CancelJob(r.job_id);
      r.cancel_status = cancelled.status();
      if (cancelled.ok()) r.cancel_state = cancelled->state();
    } else if (job.kind == JobKind::kGood) {
      // A client retrying CreateJob (same request id) must get the same job, not a second one.
      r.resubmitted = true;
      absl::StatusOr<emar::v1::Job> again = client.Submit(*file, job.name);
      r.resubmit_status = again.status();
      if (again.ok()) r.resubmit_job_id = again->job_id();
    }
    absl::StatusOr<emar::v1::Job> watched =
        client.Watch(r.job_id, [&r](const emar::v1::Job&) { ++r.watch_events; });
    r.latency = absl::Now() - start;
    r.watch_status = watched.status();
    if (watched.ok()) r.watched = *watched;
    absl::StatusOr<emar::v1::Job> got = client.GetJob(r.job_id);
    r.get_status = got.status();
    if (got.ok()) r.got = *got;
    if (watched.ok() && (watched->state() == emar::v1::JOB_STATE_SUCCEEDED ||
                         watched->state() == emar::v1::JOB_STATE_CANCELLED)) {
      absl::StatusOr<emar::v1::Report> report = client.GetReport(r.job_id);
      r.report_status = report.status();
      if (report.ok()) r.report = *std::move(report);
    }
    in_flight_->Remove(job.name);
    r.finished = true;
  }
  return records;
}

}  // namespace emar::load
