#include "server/shard_scheduler.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace emar {

ShardScheduler::ShardScheduler(SchedulerOptions options) : options_(options) {
  std::random_device rd;
  lease_secret_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

void ShardScheduler::AddJob(const std::string& job_id, std::vector<emar::v1::ShardTask> tasks,
                            int total_shards, int done_shards,
                            const absl::flat_hash_map<int32_t, int32_t>& attempts) {
  JobState& job = jobs_[job_id];
  job.total = total_shards;
  job.done = done_shards;
  // Shards that read the same references go out one after another (otherwise in their order): a
  // worker keeps only a few parsed references tables (worker/reference_cache.h), and a suite's
  // shards in plan order (model by model) would need every dataset's table once per model.
  absl::flat_hash_map<std::string, size_t> group;
  std::vector<std::string> key_of;
  std::vector<size_t> group_of;
  key_of.reserve(tasks.size());
  group_of.reserve(tasks.size());
  for (const emar::v1::ShardTask& t : tasks) {
    key_of.push_back(GroupOf(job_id, t));
    const auto [it, added] = group.try_emplace(key_of.back(), group.size());
    if (added && std::find(job.groups.begin(), job.groups.end(), it->first) == job.groups.end()) {
      job.groups.push_back(it->first);
    }
    group_of.push_back(it->second);
  }
  std::vector<size_t> order(tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return group_of[a] < group_of[b]; });
  for (size_t i : order) {
    emar::v1::ShardTask& t = tasks[i];
    const int32_t id = t.shard_id();
    ShardState& s = job.shards[id];
    s.task = std::move(t);
    s.group = std::move(key_of[i]);
    auto it = attempts.find(id);
    s.attempts = it == attempts.end() ? 0 : it->second;
    Enqueue(job_id, id, s);
  }
}

void ShardScheduler::ForgetLease(const ShardState& shard) {
  auto lease = leases_.find(shard.lease_id);
  if (lease == leases_.end()) return;
  auto r = process_leases_.find(ReaderKey(shard.group, lease->second.worker_id));
  if (r != process_leases_.end() && --r->second <= 0) process_leases_.erase(r);
  leases_.erase(lease);
}

void ShardScheduler::RetireLease(const std::string& job_id, ShardState& shard) {
  if (shard.lease_id.empty()) return;
  ForgetLease(shard);
  if (auto g = group_leases_.find(shard.group); g != group_leases_.end() && --g->second <= 0) {
    group_leases_.erase(g);
  }
  retired_[shard.lease_id] = {job_id, shard.task.shard_id()};
  shard.lease_id.clear();
}

std::string ShardScheduler::GroupOf(const std::string& job_id, const emar::v1::ShardTask& task) {
  return absl::StrCat(job_id, "\n", task.references().sha256(),
                      task.ids_from_outputs() ? "|ids" : "");
}

void ShardScheduler::Enqueue(const std::string& job_id, int32_t shard_id, ShardState& shard) {
  RetireLease(job_id, shard);
  if (!shard.queued) {
    ++pending_;
    ++group_pending_[shard.group];
  }
  shard.queued = true;
  queue_.emplace_back(job_id, shard_id);
  GroupQueue& g = groups_[shard.group];
  g.job_id = job_id;
  g.shards.push_back(shard_id);
}

ShardScheduler::Popped ShardScheduler::PopGroup(const std::string& group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return {};
  GroupQueue& g = it->second;
  Popped out;
  auto job = jobs_.find(g.job_id);
  while (out.shard == nullptr && job != jobs_.end() && !g.shards.empty()) {
    auto shard = job->second.shards.find(g.shards.front());
    g.shards.pop_front();
    if (shard != job->second.shards.end() && shard->second.queued && !shard->second.done) {
      out = {g.job_id, &shard->second};
    }
  }
  if (g.shards.empty() || job == jobs_.end()) groups_.erase(it);
  return out;
}

ShardScheduler::Popped ShardScheduler::PopSpread() {
  while (!queue_.empty()) {
    const auto [job_id, shard_id] = queue_.front();
    queue_.pop_front();
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) continue;
    auto shard = job->second.shards.find(shard_id);
    if (shard == job->second.shards.end() || !shard->second.queued || shard->second.done) continue;
    const std::string& front = shard->second.group;
    // When current leases read the front shard's group, a group of the same job that none reads
    // goes first (its shards are as much the job's; the front one waits).
    auto read = [this](const std::string& g) {
      auto it = group_leases_.find(g);
      return it != group_leases_.end() && it->second > 0;
    };
    for (size_t i = 0; read(front) && i < job->second.groups.size(); ++i) {
      const std::string& g = job->second.groups[i];
      if (read(g)) continue;
      Popped other = PopGroup(g);
      if (other.shard != nullptr) {
        queue_.emplace_front(job_id, shard_id);  // still the oldest
        return other;
      }
    }
    // Its group's oldest pending shard: the front one, or one requeued after it.
    Popped same = PopGroup(front);
    if (same.shard != nullptr) return same;
  }
  return {};
}

emar::v1::ShardTask ShardScheduler::Grant(const Popped& popped, const std::string& worker_id,
                                          absl::Time now) {
  ShardState& s = *popped.shard;
  s.queued = false;
  --pending_;
  --group_pending_[s.group];
  // The counter makes it unique, the keyed mix of it makes it unguessable.
  uint64_t mix = (next_lease_ + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL ^ lease_secret_;
  mix = (mix ^ (mix >> 31)) * 0x94d049bb133111ebULL;
  s.lease_id = absl::StrFormat("lease-%d-%016x", next_lease_++, mix ^ (mix >> 29));
  leases_[s.lease_id] =
      LeaseState{popped.job_id, s.task.shard_id(), worker_id, now + options_.lease_ttl};
  ++group_leases_[s.group];
  ++process_leases_[ReaderKey(s.group, worker_id)];
  last_group_[worker_id] = s.group;
  emar::v1::ShardTask task = s.task;
  task.set_lease_id(s.lease_id);
  task.set_lease_ttl_ms(absl::ToInt64Milliseconds(options_.lease_ttl));
  task.set_attempt(s.attempts + 1);
  return task;
}

std::optional<emar::v1::ShardTask> ShardScheduler::Lease(const std::string& worker_id,
                                                         absl::Time now) {
  Popped p;
  const auto last = last_group_.find(worker_id);
  if (last != last_group_.end()) p = PopGroup(last->second);
  if (p.shard == nullptr) {
    p = PopSpread();
    if (p.shard != nullptr && last != last_group_.end() && NotWorthJoining(p, worker_id)) {
      Unpop(p);
      return std::nullopt;
    }
  }
  if (p.shard == nullptr) return std::nullopt;
  return Grant(p, worker_id, now);
}

std::string ShardScheduler::ReaderKey(const std::string& group, absl::string_view worker_id) {
  const size_t slash = worker_id.rfind('/');
  return absl::StrCat(group, "\n",
                      slash == absl::string_view::npos ? worker_id : worker_id.substr(0, slash));
}

bool ShardScheduler::HasPendingInLastGroup(const std::string& worker_id) const {
  const auto last = last_group_.find(worker_id);
  if (last == last_group_.end()) return false;
  const auto pending = group_pending_.find(last->second);
  return pending != group_pending_.end() && pending->second > 0;
}

bool ShardScheduler::NotWorthJoining(const Popped& popped, const std::string& worker_id) const {
  const ShardState& s = *popped.shard;
  if (process_leases_.contains(ReaderKey(s.group, worker_id))) return false;  // its table is here
  const auto readers = group_leases_.find(s.group);
  if (readers == group_leases_.end() || readers->second <= 0) return false;
  const auto pending = group_pending_.find(s.group);
  const double load_in_shards = static_cast<double>(s.task.reference_rows()) /
                                static_cast<double>(std::max<int64_t>(s.task.rows(), 1));
  return pending == group_pending_.end() ||
         static_cast<double>(pending->second) <= load_in_shards * readers->second;
}

void ShardScheduler::Unpop(const Popped& popped) {
  const int32_t shard_id = popped.shard->task.shard_id();
  queue_.emplace_front(popped.job_id, shard_id);
  GroupQueue& g = groups_[popped.shard->group];
  g.job_id = popped.job_id;
  g.shards.push_front(shard_id);
}

LeaseCheck ShardScheduler::Heartbeat(const std::string& lease_id, absl::Time now) {
  auto it = leases_.find(lease_id);
  if (it != leases_.end()) {
    // Past its expiry the lease is lost even before ExpireLeases retires it: a late beat must
    // not revive a shard that is about to be handed to another worker.
    if (it->second.expiry < now) return LeaseCheck::kStale;
    it->second.expiry = now + options_.lease_ttl;
    return LeaseCheck::kCurrent;
  }
  return retired_.contains(lease_id) ? LeaseCheck::kStale : LeaseCheck::kUnknownLease;
}

const emar::v1::ShardTask* ShardScheduler::LeasedTask(const std::string& lease_id,
                                                      absl::Time now) const {
  auto it = leases_.find(lease_id);
  if (it == leases_.end() || it->second.expiry < now) return nullptr;
  auto job = jobs_.find(it->second.job_id);
  if (job == jobs_.end()) return nullptr;
  auto shard = job->second.shards.find(it->second.shard_id);
  if (shard == job->second.shards.end()) return nullptr;
  return &shard->second.task;
}

LeaseCheck ShardScheduler::CheckLease(const std::string& job_id, int32_t shard_id,
                                      const std::string& lease_id) const {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return LeaseCheck::kUnknownJob;
  auto shard = job->second.shards.find(shard_id);
  if (shard == job->second.shards.end()) return LeaseCheck::kUnknownShard;
  if (!lease_id.empty() && shard->second.lease_id == lease_id) return LeaseCheck::kCurrent;
  auto past = retired_.find(lease_id);
  const bool ours =
      past != retired_.end() && past->second.first == job_id && past->second.second == shard_id;
  return ours ? LeaseCheck::kStale : LeaseCheck::kUnknownLease;
}

void ShardScheduler::RenewLeases(absl::Time now) {
  for (auto& [id, lease] : leases_) lease.expiry = std::max(lease.expiry, now + options_.lease_ttl);
}

const emar::v1::ShardTask* ShardScheduler::TaskOf(const std::string& job_id,
                                                  int32_t shard_id) const {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return nullptr;
  auto shard = job->second.shards.find(shard_id);
  return shard == job->second.shards.end() ? nullptr : &shard->second.task;
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
  if (s.queued) {  // a late result of an expired lease: the requeued shard is done
    --pending_;
    --group_pending_[s.group];
  }
  s.queued = false;
  RetireLease(job_id, s);
  ++job->second.done;
  return CompleteVerdict::kAccepted;
}

std::optional<SchedulerEvent> ShardScheduler::RecordFailedAttempt(const std::string& job_id,
                                                                  ShardState& shard,
                                                                  const std::string& message) {
  RetireLease(job_id, shard);
  ++shard.attempts;
  shard.last_error = message;
  SchedulerEvent ev{job_id, false, message, shard.task.shard_id(), shard.attempts};
  if (shard.attempts >= options_.max_attempts) {
    ev.job_failed = true;
    ev.message = absl::StrCat("shard ", shard.task.shard_id(), " (", shard.task.model(), ", ",
                              shard.task.outputs().display_name(), ") failed ", shard.attempts,
                              " times; last error: ", message);
    return ev;
  }
  Enqueue(job_id, shard.task.shard_id(), shard);
  return ev;
}

std::optional<SchedulerEvent> ShardScheduler::Fail(const std::string& job_id, int32_t shard_id,
                                                   const std::string& message, bool input_error) {
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return std::nullopt;
  auto shard = job->second.shards.find(shard_id);
  if (shard == job->second.shards.end() || shard->second.done) return std::nullopt;
  if (input_error) {
    return SchedulerEvent{job_id, true, message, shard_id, shard->second.attempts};
  }
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
    if (!s.lease_id.empty()) ForgetLease(s);
    if (s.queued && !s.done) --pending_;
  }
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->second.first == job_id) {
      retired_.erase(it++);
    } else {
      ++it;
    }
  }
  for (const std::string& g : job->second.groups) {
    groups_.erase(g);
    group_leases_.erase(g);
    group_pending_.erase(g);
  }
  for (auto it = last_group_.begin(); it != last_group_.end();) {
    if (absl::c_linear_search(job->second.groups, it->second)) {
      last_group_.erase(it++);
    } else {
      ++it;
    }
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

}  // namespace emar
