// The Coordinator's worker side: leases, heartbeats and results (server/coordinator.h).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/result_checks.h"
#include "server/storage_full.h"

namespace emar {
namespace {

// A shard result whose store write takes longer than this is logged (store_write_slow).
constexpr absl::Duration kSlowStoreWrite = absl::Seconds(1);

void LogIfFailed(const absl::Status& s, absl::string_view what) {
  if (!s.ok()) {
    Notice(LogLevel::kError, "store_write_failed",
           absl::StrCat("emar-coordinator: ", what, ": ", s.ToString()),
           {{"what", std::string(what)}, {"error", std::string(s.message())}});
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Workers: leases, heartbeats, results

uint64_t Coordinator::LeaseAsync(const std::string& worker_id, absl::Duration wait,
                                 LeaseCallback cb) {
  return broker_.LeaseAsync(worker_id, wait, std::move(cb));
}

bool Coordinator::CancelLeaseWait(uint64_t handle) { return broker_.CancelLeaseWait(handle); }

std::optional<emar::v1::ShardTask> Coordinator::TryLease(const std::string& worker_id) {
  return broker_.TryLease(worker_id);
}

absl::StatusOr<emar::v1::HeartbeatResponse> Coordinator::Heartbeat(
    const emar::v1::HeartbeatRequest& req) {
  return broker_.Heartbeat(req);
}

void Coordinator::OnLeased(const emar::v1::ShardTask& task, absl::Time now) {
  // Best effort: QUEUED vs RUNNING is re-derived on recovery, and the store never lets this late
  // write overwrite a terminal state.
  if (std::optional<emar::v1::Job> running = board_.MarkRunning(task.job_id(), now)) {
    const absl::Duration queued = now - absl::FromUnixMillis(running->created_unix_ms());
    {
      absl::MutexLock lock(&started_mu_);
      started_[task.job_id()] = now;
    }
    LogEvent("job_started", {{"job", task.job_id()}, {"queued_ms", DurationMs(queued)}});
    LogIfFailed(store_->UpdateJob(*running), "saving RUNNING state of " + running->job_id());
  }
}

absl::StatusOr<emar::v1::CompleteResponse> Coordinator::Complete(
    const emar::v1::CompleteRequest& req) {
  if (req.job_id().empty()) return absl::InvalidArgumentError("job_id is required");
  if (req.lease_id().empty()) return absl::InvalidArgumentError("lease_id is required");
  // Only the shard's current lease may complete or fail it. A stale lease's late answer is
  // acknowledged as a duplicate and ignored; anything else is refused.
  if (req.has_failure()) return CompleteFailure(req);
  if (!req.has_result()) return absl::InvalidArgumentError("complete needs a result or a failure");
  return CompleteResult(req);
}

absl::StatusOr<emar::v1::CompleteResponse> Coordinator::CompleteFailure(
    const emar::v1::CompleteRequest& req) {
  ASSIGN_OR_RETURN(LeaseBroker::FailOutcome outcome, broker_.Fail(req));
  emar::v1::CompleteResponse resp;
  resp.set_duplicate(outcome.duplicate);
  if (outcome.event && outcome.event->job_failed) {
    FinishJob(outcome.event->job_id, emar::v1::JOB_STATE_FAILED, outcome.event->message);
  } else if (outcome.event) {
    SaveAttempts(req.job_id(), req.shard_id(), outcome.event->attempts);
  }
  return resp;
}

absl::StatusOr<emar::v1::CompleteResponse> Coordinator::CompleteResult(
    const emar::v1::CompleteRequest& req) {
  emar::v1::CompleteResponse resp;
  ASSIGN_OR_RETURN(const std::optional<emar::v1::ShardTask> task, broker_.CurrentTask(req));
  if (!task) {  // an earlier lease's late answer
    resp.set_duplicate(true);
    return resp;
  }
  // Checked against the shard's plan before it is stored, so a malformed or impossible result
  // never reaches the job or the score cache. Refusing it spends one of the shard's attempts
  // and requeues it at once, as a failure would: a worker that always answers wrongly fails the
  // job after --max-attempts, instead of looping.
  if (absl::Status bad = CheckShardResult(*task, req.result()); !bad.ok()) {
    emar::v1::CompleteRequest failed = req;
    failed.mutable_failure()->set_message(std::string(bad.message()));
    LogIfFailed(CompleteFailure(failed).status(), "requeueing a refused result");
    return bad;
  }
  const CacheSource source{.worker = req.worker_id(),
                           .outputs_sha256 = task->outputs().sha256(),
                           .references_sha256 = task->references().sha256(),
                           .unix_ms = absl::ToUnixMillis(clock_->Now())};
  // Durable before acknowledged; the store itself refuses a second result for a shard. A result
  // once stored counts even if its lease expired since (results are deterministic).
  const absl::Time store_start = absl::Now();
  absl::StatusOr<bool> stored =
      store_->RecordShardResult(req.job_id(), req.shard_id(), req.result(), source);
  const absl::Duration store_time = absl::Now() - store_start;
  if (store_time > kSlowStoreWrite) {
    LogEventAt(LogLevel::kWarning, "store_write_slow",
               {{"job", req.job_id()},
                {"shard", absl::StrCat(req.shard_id())},
                {"what", "shard result"},
                {"duration_ms", DurationMs(store_time)}});
  }
  NoteStoreWrite(stored.status());
  if (IsStorageFull(stored.status())) {
    // An outage, not a verdict: the lease stays the worker's (renewed, as by a heartbeat) and no
    // attempt is spent; the worker keeps its result and retries until space returns.
    emar::v1::HeartbeatRequest renew;
    renew.set_lease_id(req.lease_id());
    broker_.Heartbeat(renew).IgnoreError();
    return WithClientMessage(
        absl::UnavailableError(stored.status().message()),
        "the coordinator's storage is full: the result was not stored; keep it and retry");
  }
  RETURN_IF_ERROR(stored.status());
  const bool fresh = *stored;
  const LeaseBroker::AcceptOutcome accepted = broker_.Accept(req.job_id(), req.shard_id());
  resp.set_duplicate(!fresh || accepted.verdict != CompleteVerdict::kAccepted);
  if (!fresh) return resp;
  const int64_t rows = req.result().reference_row_size();
  const absl::Time now = clock_->Now();
  LogEvent("shard_completed", {{"job", req.job_id()},
                               {"shard", absl::StrCat(req.shard_id())},
                               {"worker", req.worker_id()},
                               {"rows", rows},
                               {"store_ms", DurationMs(store_time)}});
  metrics_.Scored(req.lease_id(), rows, now);
  if (board_.ShardDone(req.job_id(), accepted.done_shards, rows, now) && accepted.job_complete) {
    QueueFinalize(req.job_id());
  }
  return resp;
}

void Coordinator::SaveAttempts(const std::string& job_id, int32_t shard_id, int32_t attempts) {
  LogIfFailed(store_->RecordShardAttempt(job_id, shard_id, attempts),
              absl::StrCat("saving attempts of shard ", shard_id, " of ", job_id));
}

}  // namespace emar
