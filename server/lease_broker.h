// Hands shards to workers: long-poll waiters, dispatch, heartbeats, lease checks for results and
// failures, and the tick that expires leases and times out waits. It wraps the pure
// ShardScheduler with a lock, a clock and the waiting long-polls; durability is the caller's
// (it stores a result before Accept, and persists the attempts of the events it gets back).
//
//   LeaseBroker broker(options, &clock, &metrics, [&](const ShardTask& t, absl::Time now) {
//     board.MarkRunning(t.job_id(), now);            // runs before the worker gets `t`
//   });
//   broker.AddJob(job_id, tasks, total, done);
//   broker.LeaseAsync("w1", absl::Seconds(10), [](std::optional<ShardTask> t) { ... });
//   for (SchedulerEvent& e : broker.Tick()) ...;     // expired leases, failing jobs
//
// Thread-safe. Callbacks (lease answers, the leased hook) run after its lock is released.
#ifndef EMAR_SERVER_LEASE_BROKER_H_
#define EMAR_SERVER_LEASE_BROKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/clock.h"
#include "server/coordinator_metrics.h"
#include "server/shard_scheduler.h"

namespace emar {

struct LeaseBrokerOptions {
  SchedulerOptions scheduler;
  absl::Duration max_lease_wait = absl::Seconds(30);
};

class LeaseBroker {
 public:
  using LeaseCallback = std::function<void(std::optional<emar::v1::ShardTask>)>;
  // A shard was leased at `now`; runs after the lock, before the worker gets its answer.
  using LeasedHook = std::function<void(const emar::v1::ShardTask& task, absl::Time now)>;

  // What a failure report did.
  struct FailOutcome {
    bool duplicate = false;  // a stale lease's late answer: ignored
    std::optional<SchedulerEvent> event;
  };
  // What a stored result did.
  struct AcceptOutcome {
    CompleteVerdict verdict = CompleteVerdict::kUnknown;
    int32_t done_shards = 0;
    bool job_complete = false;  // this result was the job's last one
  };

  // `clock` and `metrics` (may be null) must outlive the broker.
  LeaseBroker(LeaseBrokerOptions options, Clock* clock, CoordinatorMetrics* metrics,
              LeasedHook on_leased);

  // --- jobs ---
  // Registers a job's shards still to do (see ShardScheduler::AddJob) and dispatches them.
  void AddJob(const std::string& job_id, std::vector<emar::v1::ShardTask> tasks, int total_shards,
              int done_shards, const absl::flat_hash_map<int32_t, int32_t>& attempts = {});
  // Forgets a job: its pending shards vanish, its leases die.
  void RemoveJob(const std::string& job_id);

  // --- workers ---
  // Answers `cb` with a shard as soon as one is available, or with nothing after `wait`
  // (capped at max_lease_wait) or at shutdown. Returns a handle for CancelLeaseWait.
  uint64_t LeaseAsync(const std::string& worker_id, absl::Duration wait, LeaseCallback cb);
  // A shard pending now for `worker_id`, leased at once (after the parked long-polls had theirs),
  // or nullopt without waiting. The leased hook has run when it returns.
  std::optional<emar::v1::ShardTask> TryLease(const std::string& worker_id);
  // Drops a waiting long-poll; false if its callback already ran or is running.
  bool CancelLeaseWait(uint64_t handle);
  absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(const emar::v1::HeartbeatRequest& req);
  // Only the shard's current lease may complete or fail it: true for an earlier lease of the
  // shard (a duplicate to acknowledge and ignore), an error for anything that is not its lease.
  absl::StatusOr<bool> IsStale(const emar::v1::CompleteRequest& req);
  // The same check, giving the shard's task when the lease is current (nullopt when stale).
  absl::StatusOr<std::optional<emar::v1::ShardTask>> CurrentTask(
      const emar::v1::CompleteRequest& req);
  // The current lease's worker reports a failure: requeues the shard (and dispatches it) or
  // fails the job (the event says which; the job is then out of the scheduler).
  absl::StatusOr<FailOutcome> Fail(const emar::v1::CompleteRequest& req);
  // The shard's result is stored: marks it done.
  AcceptOutcome Accept(const std::string& job_id, int32_t shard_id);
  // The task of a current, unexpired lease (what its worker may read), or nullopt.
  std::optional<emar::v1::ShardTask> LeasedTask(const std::string& lease_id);

  // Expires leases (jobs whose shard ran out of attempts leave the scheduler at once; not with
  // `expire_leases` false: the coordinator's disk is full), dispatches, and answers long-polls
  // past their deadline. Returns one event per expired lease.
  std::vector<SchedulerEvent> Tick(bool expire_leases = true);
  // Renews every current lease (ShardScheduler::RenewLeases): the coordinator's disk has space
  // again after an outage that kept them.
  void RenewLeases();
  // Answers every waiting long-poll with nothing; later ones are answered at once. Idempotent.
  void Shutdown();

  size_t pending_count() const;
  size_t lease_count() const;
  SchedulerOptions scheduler_options() const { return options_.scheduler; }

 private:
  struct Waiter {
    std::string worker_id;
    absl::Time deadline;
    LeaseCallback cb;
  };
  using Calls = std::vector<std::function<void()>>;
  // What runs after the lock when `task` was leased to `worker_id` at `now`.
  std::function<void()> LeasedCall(const emar::v1::ShardTask& task, const std::string& worker_id,
                                   absl::Time now);
  // Pairs waiting long-polls with pending shards; collects their callbacks into `out`.
  void DispatchLocked(Calls* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- constant after construction ---
  const LeaseBrokerOptions options_;
  Clock* const clock_;
  CoordinatorMetrics* const metrics_;
  const LeasedHook on_leased_;

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;
  ShardScheduler scheduler_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);  // ordered: FIFO by handle
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace emar

#endif  // EMAR_SERVER_LEASE_BROKER_H_
