#include "server/lease_broker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"

namespace emar {
namespace {

void RunAll(std::vector<std::function<void()>>& calls) {
  for (auto& f : calls) f();
  calls.clear();
}

// The answer to a worker naming a lease that is not the shard's current one.
absl::Status LeaseError(LeaseCheck check, const std::string& job_id, int32_t shard_id,
                        const std::string& lease_id) {
  switch (check) {
    case LeaseCheck::kUnknownJob:
      return absl::NotFoundError(absl::StrCat("job '", job_id,
                                              "' has no shards in progress here (unknown, or "
                                              "finished, failed or cancelled)"));
    case LeaseCheck::kUnknownShard:
      return absl::NotFoundError(
          absl::StrCat("shard ", shard_id, " of job '", job_id, "' is not waiting for a result"));
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "lease '", lease_id, "' is not a lease of shard ", shard_id, " of job '", job_id, "'"));
  }
}

}  // namespace

LeaseBroker::LeaseBroker(LeaseBrokerOptions options, Clock* clock, CoordinatorMetrics* metrics,
                         LeasedHook on_leased)
    : options_(options),
      clock_(clock),
      metrics_(metrics),
      on_leased_(std::move(on_leased)),
      scheduler_(options.scheduler) {}

void LeaseBroker::AddJob(const std::string& job_id, std::vector<emar::v1::ShardTask> tasks,
                         int total_shards, int done_shards,
                         const absl::flat_hash_map<int32_t, int32_t>& attempts) {
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    scheduler_.AddJob(job_id, std::move(tasks), total_shards, done_shards, attempts);
    DispatchLocked(&calls);
  }
  RunAll(calls);
}

void LeaseBroker::RemoveJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  scheduler_.RemoveJob(job_id);
}

uint64_t LeaseBroker::LeaseAsync(const std::string& worker_id, absl::Duration wait,
                                 LeaseCallback cb) {
  Calls calls;
  uint64_t handle;
  const absl::Time now = clock_->Now();
  if (metrics_ != nullptr) metrics_->SawWorker(worker_id, now);
  {
    absl::MutexLock lock(&mu_);
    handle = next_handle_++;
    if (shutdown_) {
      calls.push_back([cb = std::move(cb)] { cb(std::nullopt); });
    } else {
      wait = std::min(std::max(wait, absl::ZeroDuration()), options_.max_lease_wait);
      waiters_[handle] = Waiter{worker_id, now + wait, std::move(cb)};
      DispatchLocked(&calls);
    }
  }
  RunAll(calls);
  return handle;
}

std::optional<emar::v1::ShardTask> LeaseBroker::TryLease(const std::string& worker_id) {
  Calls calls;
  std::optional<emar::v1::ShardTask> task;
  const absl::Time now = clock_->Now();
  if (metrics_ != nullptr) metrics_->SawWorker(worker_id, now);
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      // Parked long-polls were waiting first, unless this worker continues with the references
      // it holds (a Complete with lease_next: its lease just ended, and parked workers that
      // would join its file judge it by its current readers, ShardScheduler::Lease).
      const bool continues = scheduler_.HasPendingInLastGroup(worker_id);
      if (!continues) DispatchLocked(&calls);
      task = scheduler_.Lease(worker_id, now);
      if (task) calls.push_back(LeasedCall(*task, worker_id, now));
      if (continues) DispatchLocked(&calls);
    }
  }
  RunAll(calls);
  return task;
}

std::function<void()> LeaseBroker::LeasedCall(const emar::v1::ShardTask& task,
                                              const std::string& worker_id, absl::Time now) {
  // Run after the lock, in this order: the job is RUNNING and the lease counted before the
  // worker hears of it (its heartbeat finds the lease's start).
  return [this, t = task, worker = worker_id, now] {
    if (on_leased_) on_leased_(t, now);
    if (metrics_ != nullptr) metrics_->Leased(t.lease_id(), worker, now);
    LogEvent("shard_leased", {{"job", t.job_id()},
                              {"shard", absl::StrCat(t.shard_id())},
                              {"lease", t.lease_id()},
                              {"worker", worker}});
  };
}

bool LeaseBroker::CancelLeaseWait(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  return waiters_.erase(handle) > 0;
}

void LeaseBroker::DispatchLocked(Calls* out) {
  const absl::Time now = clock_->Now();
  // In arrival order; a waiter the scheduler gives nothing while shards are pending (it would
  // rather leave a group's last shards to their readers) stays parked, and the next one is asked.
  for (auto it = waiters_.begin(); it != waiters_.end() && scheduler_.pending_count() > 0;) {
    std::optional<emar::v1::ShardTask> task = scheduler_.Lease(it->second.worker_id, now);
    if (!task) {
      ++it;
      continue;
    }
    out->push_back(LeasedCall(*task, it->second.worker_id, now));
    out->push_back(
        [cb = std::move(it->second.cb), t = std::move(*task)]() mutable { cb(std::move(t)); });
    it = waiters_.erase(it);
  }
}

absl::StatusOr<emar::v1::HeartbeatResponse> LeaseBroker::Heartbeat(
    const emar::v1::HeartbeatRequest& req) {
  if (req.lease_id().empty()) return absl::InvalidArgumentError("lease_id is required");
  const absl::Time now = clock_->Now();
  LeaseCheck check;
  {
    absl::MutexLock lock(&mu_);
    check = scheduler_.Heartbeat(req.lease_id(), now);
  }
  if (metrics_ != nullptr) metrics_->Heartbeat(req.lease_id(), now);
  if (check == LeaseCheck::kUnknownLease) {
    return absl::NotFoundError(absl::StrCat("lease '", req.lease_id(),
                                            "' is unknown here (never issued, or its job ended "
                                            "or the coordinator restarted since)"));
  }
  emar::v1::HeartbeatResponse resp;
  resp.set_keep_going(check == LeaseCheck::kCurrent);  // stale: the shard went to another lease
  resp.set_lease_ttl_ms(absl::ToInt64Milliseconds(options_.scheduler.lease_ttl));
  return resp;
}

absl::StatusOr<bool> LeaseBroker::IsStale(const emar::v1::CompleteRequest& req) {
  absl::MutexLock lock(&mu_);
  const LeaseCheck check = scheduler_.CheckLease(req.job_id(), req.shard_id(), req.lease_id());
  if (check == LeaseCheck::kStale) return true;
  if (check != LeaseCheck::kCurrent) {
    return LeaseError(check, req.job_id(), req.shard_id(), req.lease_id());
  }
  return false;
}

absl::StatusOr<std::optional<emar::v1::ShardTask>> LeaseBroker::CurrentTask(
    const emar::v1::CompleteRequest& req) {
  absl::MutexLock lock(&mu_);
  const LeaseCheck check = scheduler_.CheckLease(req.job_id(), req.shard_id(), req.lease_id());
  if (check == LeaseCheck::kStale) return std::nullopt;
  const emar::v1::ShardTask* task = scheduler_.TaskOf(req.job_id(), req.shard_id());
  if (check != LeaseCheck::kCurrent || task == nullptr) {
    return LeaseError(check, req.job_id(), req.shard_id(), req.lease_id());
  }
  return *task;
}

absl::StatusOr<LeaseBroker::FailOutcome> LeaseBroker::Fail(const emar::v1::CompleteRequest& req) {
  FailOutcome outcome;
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    const LeaseCheck check = scheduler_.CheckLease(req.job_id(), req.shard_id(), req.lease_id());
    if (check == LeaseCheck::kStale) {
      outcome.duplicate = true;
      return outcome;
    }
    if (check != LeaseCheck::kCurrent) {
      return LeaseError(check, req.job_id(), req.shard_id(), req.lease_id());
    }
    outcome.event = scheduler_.Fail(req.job_id(), req.shard_id(), req.failure().message(),
                                    req.failure().input_error());
    calls.push_back([req, attempts = outcome.event ? outcome.event->attempts : 0] {
      LogEvent("shard_failed", {{"job", req.job_id()},
                                {"shard", absl::StrCat(req.shard_id())},
                                {"worker", req.worker_id()},
                                {"attempts", attempts},
                                {"input_error", req.failure().input_error() ? "true" : "false"},
                                {"error", req.failure().message()}});
    });
    if (outcome.event && !outcome.event->job_failed) DispatchLocked(&calls);
  }
  RunAll(calls);
  return outcome;
}

LeaseBroker::AcceptOutcome LeaseBroker::Accept(const std::string& job_id, int32_t shard_id) {
  absl::MutexLock lock(&mu_);
  AcceptOutcome outcome;
  outcome.verdict = scheduler_.Complete(job_id, shard_id);
  outcome.done_shards = scheduler_.done_shards(job_id);
  outcome.job_complete =
      outcome.verdict == CompleteVerdict::kAccepted && scheduler_.IsJobComplete(job_id);
  return outcome;
}

std::optional<emar::v1::ShardTask> LeaseBroker::LeasedTask(const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  const emar::v1::ShardTask* task = scheduler_.LeasedTask(lease_id, clock_->Now());
  if (task == nullptr) return std::nullopt;
  return *task;
}

std::vector<SchedulerEvent> LeaseBroker::Tick(bool expire_leases) {
  Calls calls;
  std::vector<SchedulerEvent> events;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (expire_leases) events = scheduler_.ExpireLeases(now);
    for (const SchedulerEvent& e : events) {
      calls.push_back([job_id = e.job_id, shard = e.shard_id, attempts = e.attempts] {
        LogEvent("lease_expired",
                 {{"job", job_id}, {"shard", absl::StrCat(shard)}, {"attempts", attempts}});
      });
      // Out of the scheduler before dispatching: no worker may get a shard of a failing job.
      if (e.job_failed) scheduler_.RemoveJob(e.job_id);
    }
    DispatchLocked(&calls);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.deadline <= now) {
        calls.push_back([cb = std::move(it->second.cb)] { cb(std::nullopt); });
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  RunAll(calls);
  return events;
}

void LeaseBroker::RenewLeases() {
  absl::MutexLock lock(&mu_);
  scheduler_.RenewLeases(clock_->Now());
}

void LeaseBroker::Shutdown() {
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    for (auto& [id, w] : waiters_) calls.push_back([cb = std::move(w.cb)] { cb(std::nullopt); });
    waiters_.clear();
  }
  RunAll(calls);
}

size_t LeaseBroker::pending_count() const {
  absl::MutexLock lock(&mu_);
  return scheduler_.pending_count();
}

size_t LeaseBroker::lease_count() const {
  absl::MutexLock lock(&mu_);
  return scheduler_.lease_count();
}

}  // namespace emar
