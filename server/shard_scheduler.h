// The lease state machine: which shard goes to which worker, until when, and what happens when a
// worker dies, fails or answers twice. Pure and clock-driven (every call takes `now`), so tests
// replay worker deaths, duplicate completions and retries without sleeping.
//
//   ShardScheduler s({.lease_ttl = absl::Seconds(30), .max_attempts = 3});
//   s.AddJob("j1", tasks, /*total_shards=*/tasks.size(), /*done_shards=*/0);
//   std::optional<ShardTask> t = s.Lease("worker-a", now);
//   s.Heartbeat(t->lease_id(), now + absl::Seconds(10));
//   if (s.CheckLease(t->job_id(), t->shard_id(), t->lease_id()) == LeaseCheck::kCurrent) {
//     CompleteVerdict v = s.Complete(t->job_id(), t->shard_id());
//   }
//   std::vector<SchedulerEvent> ev = s.ExpireLeases(now + absl::Minutes(5));
//
// Durability is the caller's business: the coordinator stores a result before it calls Complete.
// Not thread-safe; the coordinator holds its mutex around every call.
#ifndef EMAR_SERVER_SHARD_SCHEDULER_H_
#define EMAR_SERVER_SHARD_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"

namespace emar {

struct SchedulerOptions {
  absl::Duration lease_ttl = absl::Seconds(30);
  int max_attempts = 3;
};

// Something the coordinator must act on: a shard that used up an attempt (to persist), and a job
// that must now fail.
struct SchedulerEvent {
  std::string job_id;
  bool job_failed = false;
  std::string message;
  int32_t shard_id = -1;  // the shard whose attempt failed, when there is one
  int32_t attempts = 0;   // its attempts so far
};

// Whose lease a worker's Heartbeat or Complete names. Lease ids are unguessable (a random part),
// so only a worker that was handed one can name it.
enum class LeaseCheck {
  kCurrent,       // the shard's live lease
  kStale,         // an earlier lease of that shard (expired, failed, or the shard is done)
  kUnknownJob,    // no such job here (never, or no longer: finished, failed, cancelled)
  kUnknownShard,  // the job has no such shard waiting (or it was done before a restart)
  kUnknownLease,  // not a lease this scheduler issued for that shard
};

enum class CompleteVerdict {
  kAccepted,   // first result for the shard: count it
  kDuplicate,  // shard already done: ignore, acknowledge
  kUnknown,    // no such job (finished, failed or cancelled): ignore, acknowledge
};

class ShardScheduler {
 public:
  explicit ShardScheduler(SchedulerOptions options);

  // Registers a job's shards. `tasks` are the shards still to do; `done_shards` the ids already
  // completed (after a restart); `attempts` carries prior attempts by shard id. They are queued
  // in their order, except that shards reading the same references blob are queued together, in
  // the order each references blob first appears.
  void AddJob(const std::string& job_id, std::vector<emar::v1::ShardTask> tasks, int total_shards,
              int done_shards, const absl::flat_hash_map<int32_t, int32_t>& attempts = {});
  // Hands out a pending shard with a fresh lease, or nothing. Which one: a shard of the (job,
  // references) group the worker was last handed, while that group has shards (the worker keeps
  // those references parsed); otherwise the oldest pending shard, unless other workers' leases
  // already read its group and the same job has a group no lease reads: then that group's oldest
  // shard, so that each references file is parsed by fewer workers. One worker gets the shards
  // in queue order.
  // A worker that holds another group's table joins a group other workers' leases read only
  // while that group has more pending shards than its readers would score in the time a table
  // takes to load, counted in shards: reference rows / the shard's rows, per reader. Nearer its
  // end it gets nothing (it waits; a reader's lease that expires makes the group free to join
  // again): loading the table would cost more than the shards it could still take. Threads of
  // one process share their tables (WorkerLoop names them ID/0, ID/1, ...: the part before the
  // last '/' is the process), so a thread always joins a group its process reads.
  std::optional<emar::v1::ShardTask> Lease(const std::string& worker_id, absl::Time now);
  // Whether the group `worker_id` was last handed has a pending shard: its next Lease continues
  // with the table it holds.
  bool HasPendingInLastGroup(const std::string& worker_id) const;
  // Extends the lease when it is current (kCurrent); otherwise says what it is: kStale means
  // the worker should stop (expired, reassigned), anything else that it never was a lease.
  LeaseCheck Heartbeat(const std::string& lease_id, absl::Time now);
  // What `lease_id` is for that shard of that job. Only kCurrent may complete or fail it.
  LeaseCheck CheckLease(const std::string& job_id, int32_t shard_id,
                        const std::string& lease_id) const;
  // The task of a shard the scheduler holds (pending, leased or done since it was added), or null.
  const emar::v1::ShardTask* TaskOf(const std::string& job_id, int32_t shard_id) const;
  // The task of a current, unexpired lease (for checking what its worker may read), or null.
  const emar::v1::ShardTask* LeasedTask(const std::string& lease_id, absl::Time now) const;
  // Marks the shard done and ends its lease. The caller has checked the lease (CheckLease)
  // before it stored the result; a result once stored counts even if the lease expired since.
  CompleteVerdict Complete(const std::string& job_id, int32_t shard_id);
  // The worker holding the shard's lease reports a failure (the caller checked the lease).
  // Input errors fail the job now; others requeue the shard until it has failed max_attempts
  // times. The event carries the attempts to persist.
  std::optional<SchedulerEvent> Fail(const std::string& job_id, int32_t shard_id,
                                     const std::string& message, bool input_error);
  // Requeues shards whose lease expired. Returns one event per expired lease (its attempts to
  // persist); job_failed is set on those whose shard ran out of attempts.
  std::vector<SchedulerEvent> ExpireLeases(absl::Time now);
  // Gives every current lease at least a full TTL from `now`, as a heartbeat would: after an
  // outage during which leases were not expired (workers held their results meanwhile).
  void RenewLeases(absl::Time now);
  // Forgets a job (cancelled, failed or finished): its pending shards vanish, its leases die.
  void RemoveJob(const std::string& job_id);

  bool IsJobComplete(const std::string& job_id) const;
  int done_shards(const std::string& job_id) const;
  size_t pending_count() const { return pending_; }
  size_t lease_count() const { return leases_.size(); }

 private:
  struct ShardState {
    emar::v1::ShardTask task;
    int32_t attempts = 0;
    bool done = false;
    bool queued = false;
    std::string lease_id;  // current lease, empty when none
    std::string last_error;
    std::string group;  // GroupOf(job, task), set once by AddJob
  };
  struct JobState {
    absl::flat_hash_map<int32_t, ShardState> shards;
    int total = 0;
    int done = 0;
    std::vector<std::string> groups;  // GroupOf its shards, in queue order
  };
  // A (job, references) group's pending shards, in queue order (may hold stale entries).
  struct GroupQueue {
    std::string job_id;
    std::deque<int32_t> shards;
  };
  struct LeaseState {
    std::string job_id;
    int32_t shard_id;
    std::string worker_id;
    absl::Time expiry;
  };

  // The group key of a shard of `job_id`: shards reading the same references blob (the same
  // way) share one.
  static std::string GroupOf(const std::string& job_id, const emar::v1::ShardTask& task);
  void Enqueue(const std::string& job_id, int32_t shard_id, ShardState& shard);
  // A pending shard taken off a queue.
  struct Popped {
    std::string job_id;
    ShardState* shard = nullptr;
  };
  // The group's oldest pending shard, dropping stale entries; none when it has none.
  Popped PopGroup(const std::string& group);
  // The oldest pending shard of the queue, or of a group of its job that no lease reads (Lease).
  Popped PopSpread();
  // Whether a worker holding another table should leave `popped` (of a group others read) to
  // them: see Lease.
  bool NotWorthJoining(const Popped& popped, const std::string& worker_id) const;
  // The process_leases_ key of `group` read by `worker_id`'s process.
  static std::string ReaderKey(const std::string& group, absl::string_view worker_id);
  // Puts a popped shard back where it was, at the front of its queues.
  void Unpop(const Popped& popped);
  // Leases a popped shard to `worker_id`.
  emar::v1::ShardTask Grant(const Popped& popped, const std::string& worker_id, absl::Time now);
  // Ends the shard's current lease, remembering it as a past one.
  void RetireLease(const std::string& job_id, ShardState& shard);
  // Drops the shard's current lease from leases_ and its process's count (process_leases_).
  void ForgetLease(const ShardState& shard);
  std::optional<SchedulerEvent> RecordFailedAttempt(const std::string& job_id, ShardState& shard,
                                                    const std::string& message);

  const SchedulerOptions options_;
  absl::flat_hash_map<std::string, JobState> jobs_;
  std::deque<std::pair<std::string, int32_t>> queue_;    // may hold stale entries; skipped on pop
  absl::flat_hash_map<std::string, GroupQueue> groups_;  // by GroupOf
  // The group each worker was last handed (RemoveJob forgets a removed job's).
  absl::flat_hash_map<std::string, std::string> last_group_;
  absl::flat_hash_map<std::string, int> group_leases_;   // current leases per group
  absl::flat_hash_map<std::string, int> group_pending_;  // queued shards per group (exact)
  // Current leases per (group, process of the worker): ReaderKey.
  absl::flat_hash_map<std::string, int> process_leases_;
  size_t pending_ = 0;  // shards queued (ShardState::queued), not entries
  absl::flat_hash_map<std::string, LeaseState> leases_;
  // Past leases of jobs still here (their late calls are "stale"): lease id -> (job, shard).
  absl::flat_hash_map<std::string, std::pair<std::string, int32_t>> retired_;
  uint64_t next_lease_ = 1;
  uint64_t lease_secret_;  // random per scheduler: lease ids cannot be guessed
};

}  // namespace emar

#endif  // EMAR_SERVER_SHARD_SCHEDULER_H_
