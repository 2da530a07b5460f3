// The jobs the coordinator is working on, in memory: unfinished jobs with live progress, jobs
// whose terminal state is being written, and who watches them. The store's copy of an unfinished
// job lags (progress is written only at the end), so reads of unfinished jobs come from here.
//
//   JobBoard board;
//   board.Add(job);                                      // created or recovered
//   board.ShardDone(job_id, done, rows, now);            // live progress, tells watchers
//   std::optional<Job> final = board.BeginFinish(job_id, JOB_STATE_SUCCEEDED, "", now);
//   store.UpdateJob(*final);                             // the caller persists it
//   board.EndFinish(*final);                             // tells watchers, forgets them
//
// Thread-safe. Watch callbacks run on the calling thread after the board's lock is released.
#ifndef EMAR_SERVER_JOB_BOARD_H_
#define EMAR_SERVER_JOB_BOARD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/principal.h"

namespace emar {

class JobBoard {
 public:
  using WatchCallback = std::function<void(const emar::v1::Job&)>;

  // What Watch found.
  struct WatchStart {
    // The job's state now: set when the board has the job (unfinished or being finished).
    std::optional<emar::v1::Job> snapshot;
    // The handle for Unwatch: set only when the job is unfinished (more events will come).
    std::optional<uint64_t> handle;
  };

  // A new or recovered unfinished job.
  void Add(const emar::v1::Job& job);
  // The board's copy (unfinished or being finished), if any.
  std::optional<emar::v1::Job> Find(const std::string& job_id) const;
  // Replaces every job of `jobs` the board has by its live copy.
  void Refresh(std::vector<emar::v1::Job>* jobs) const;
  // Unfinished jobs owned by `owner`.
  int UnfinishedOf(const std::string& owner) const;
  // Reserves one of `owner`'s `cap` unfinished-job slots for a job about to be planned, so that
  // concurrent CreateJobs cannot all pass the check: false (with `*held` the unfinished and
  // reserved jobs) when they already reach the cap. Every reservation is released once, after
  // the job is on the board (Add) or was not created.
  bool ReserveJobSlot(const std::string& owner, int cap, int* held);
  void ReleaseJobSlot(const std::string& owner);
  // Adds the unfinished jobs by state into `jobs` (indexed by JobState).
  void CountUnfinished(int64_t* jobs) const;

  // QUEUED -> RUNNING when its first shard is leased; returns the job to persist when it changed.
  std::optional<emar::v1::Job> MarkRunning(const std::string& job_id, absl::Time now);
  // A fresh result: `done` shards are now done and `rows` more examples scored. False when the
  // job is not unfinished here (finished, cancelled or unknown meanwhile).
  bool ShardDone(const std::string& job_id, int32_t done, int64_t rows, absl::Time now);

  // Moves an unfinished job to `state` and out of the unfinished set (no second finish); it is
  // still answered by Find and Watch until EndFinish. nullopt when it is not unfinished.
  std::optional<emar::v1::Job> BeginFinish(const std::string& job_id, emar::v1::JobState state,
                                           const std::string& error, absl::Time now);
  // The terminal state is stored: tells the job's watchers (their last event) and forgets them.
  void EndFinish(const emar::v1::Job& job);

  // Starts watching: unfinished jobs get a handle and every later change. `on_shutdown` runs
  // instead of further events if the board shuts down first. UNAVAILABLE after Shutdown, NOT_FOUND
  // for another principal's job. An empty snapshot: the board does not have the job (ask the
  // store).
  absl::StatusOr<WatchStart> Watch(const std::string& job_id, WatchCallback cb,
                                   std::function<void()> on_shutdown, const Principal& who);
  void Unwatch(uint64_t handle);
  // Ends every watch with its on_shutdown; later watches of unfinished jobs are refused.
  void Shutdown();

 private:
  struct Watcher {
    std::string job_id;
    WatchCallback cb;
    std::function<void()> on_shutdown;
  };
  using Calls = std::vector<std::function<void()>>;
  void NotifyLocked(const emar::v1::Job& job, Calls* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;
  // Jobs not yet terminal, with live progress.
  absl::flat_hash_map<std::string, emar::v1::Job> active_ ABSL_GUARDED_BY(mu_);
  // Jobs in their terminal state while the caller writes it to the store.
  absl::flat_hash_map<std::string, emar::v1::Job> finishing_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  // Jobs being created, by owner (ReserveJobSlot).
  absl::flat_hash_map<std::string, int> reserved_ ABSL_GUARDED_BY(mu_);
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace emar

#endif  // EMAR_SERVER_JOB_BOARD_H_
