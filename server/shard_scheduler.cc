#include "server/shard_scheduler.h"

#include "absl/strings/str_cat.h"

namespace emar {

void ShardScheduler::AddJob(const std::string& job_id, std::vector<emar::v1::ShardTask> tasks,
                            int total_shards, int done_shards,
                            const absl::flat_hash_map<int32_t, int32_t>& attempts) {
  JobState& job = jobs_[job_id];
  job.total = total_shards;
  job.done = done_shards;
  for (emar::v1::ShardTask& t : tasks) {
    const int32_t id = t.shard_id();
    ShardState& s = job.shards[id];
    s.task = std::move(t);
    auto it = attempts.find(id);
    s.attempts = it == attempts.end() ? 0 : it->second;
    Enqueue(job_id, id, s);
  }
}

void ShardScheduler::Enqueue(const std::string& job_id, int32_t shard_id, ShardState& shard) {
  shard.lease_id.clear();
  shard.queued = true;
  queue_.emplace_back(job_id, shard_id);
}

std::optional<emar::v1::ShardTask> ShardScheduler::Lease(const std::string& worker_id,
                                                         absl::Time now) {
  while (!queue_.empty()) {
    auto [job_id, shard_id] = queue_.front();
    queue_.pop_front();
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) continue;
    auto shard = job->second.shards.find(shard_id);
    if (shard == job->second.shards.end()) continue;
    ShardState& s = shard->second;
    if (s.done || !s.queued) continue;
    s.queued = false;
    s.lease_id = absl::StrCat("lease-", next_lease_++, "-", job_id, "-", shard_id);
    leases_[s.lease_id] = LeaseState{job_id, shard_id, worker_id, now + options_.lease_ttl};
    emar::v1::ShardTask task = s.task;
    task.set_lease_id(s.lease_id);
    task.set_lease_ttl_ms(absl::ToInt64Milliseconds(options_.lease_ttl));
    task.set_attempt(s.attempts + 1);
    return task;
  }
  return std::nullopt;
}

bool ShardScheduler::Heartbeat(const std::string& lease_id, absl::Time now) {
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  it->second.expiry = now + options_.lease_ttl;
  return true;
}

CompleteVerdict ShardScheduler::Complete(const std::string& job_id, int32_t shard_id) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return CompleteVerdict::kUnknown;
  auto shard = job->second.shards.find(shard_id);
  if (shard == job->second.shards.end()) {
    // Shards done before a restart are not loaded: anything else is unknown.
    return shard_id >= 0 && shard_id < job->second.total ? CompleteVerdict::kDuplicate
                                                         : CompleteVerdict::kUnknown;
  }
  ShardState& s = shard->second;
  if (s.done) return CompleteVerdict::kDuplicate;
  s.done = true;
  s.queued = false;
  if (!s.lease_id.empty()) leases_.erase(s.lease_id);
  s.lease_id.clear();
  ++job->second.done;
  return CompleteVerdict::kAccepted;
}

std::optional<SchedulerEvent> ShardScheduler::RecordFailedAttempt(const std::string& job_id,
                                                                  ShardState& shard,
                                                                  const std::string& message) {
  if (!shard.lease_id.empty()) leases_.erase(shard.lease_id);
  shard.lease_id.clear();
  ++shard.attempts;
  shard.last_error = message;
  if (shard.attempts >= options_.max_attempts) {
    return SchedulerEvent{job_id, true,
                          absl::StrCat("shard ", shard.task.shard_id(), " (", shard.task.model(),
                                       ", ", shard.task.outputs().display_name(), ") failed ",
                                       shard.attempts, " times; last error: ", message)};
  }
  Enqueue(job_id, shard.task.shard_id(), shard);
  return std::nullopt;
}

std::optional<SchedulerEvent> ShardScheduler::Fail(const std::string& job_id, int32_t shard_id,
                                                   const std::string& message, bool input_error) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return std::nullopt;
  auto shard = job->second.shards.find(shard_id);
  if (shard == job->second.shards.end() || shard->second.done) return std::nullopt;
  if (input_error) return SchedulerEvent{job_id, true, message};
  return RecordFailedAttempt(job_id, shard->second, message);
}

std::vector<SchedulerEvent> ShardScheduler::ExpireLeases(absl::Time now) {
  std::vector<std::string> expired;
  for (const auto& [id, lease] : leases_) {
    if (lease.expiry <= now) expired.push_back(id);
  }
  std::vector<SchedulerEvent> events;
  for (const std::string& id : expired) {
    const LeaseState lease = leases_[id];
    ShardState& s = jobs_[lease.job_id].shards[lease.shard_id];
    auto ev = RecordFailedAttempt(
        lease.job_id, s,
        absl::StrCat("lease expired: worker '", lease.worker_id, "' stopped heartbeating"));
    if (ev) events.push_back(std::move(*ev));
  }
  return events;
}

void ShardScheduler::RemoveJob(const std::string& job_id) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return;
  for (auto& [id, s] : job->second.shards) {
    if (!s.lease_id.empty()) leases_.erase(s.lease_id);
  }
  jobs_.erase(job);  // queue entries become stale and are skipped
}

bool ShardScheduler::IsJobComplete(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job != jobs_.end() && job->second.done >= job->second.total;
}

int ShardScheduler::done_shards(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job == jobs_.end() ? 0 : job->second.done;
}

int32_t ShardScheduler::attempts(const std::string& job_id, int32_t shard_id) const {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return 0;
  auto s = job->second.shards.find(shard_id);
  return s == job->second.shards.end() ? 0 : s->second.attempts;
}

}  // namespace emar
