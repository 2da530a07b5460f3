// The coordinator's logic, with no gRPC in it: validates and stores jobs, cuts their output files
// into shards, leases shards to workers (long-poll), stores results durably before acknowledging
// them, and builds the report when a job's last shard is in. The gRPC services
// (server/evaluation_service.h, server/worker_service.h) are thin adapters over this class.
//
//   ASSIGN_OR_RETURN(auto c, Coordinator::Create({.data_dir = "/var/lib/emar"}));
//   ASSIGN_OR_RETURN(Job job, c->CreateJob(request));
//   c->LeaseAsync("w1", absl::Seconds(10), [](std::optional<ShardTask> t) { ... });
//
// Thread-safe. Callbacks (lease answers, watch events) run on the caller's or the coordinator's
// own threads, never under its lock; they must not block for long.
#ifndef EMAR_SERVER_COORDINATOR_H_
#define EMAR_SERVER_COORDINATOR_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "eval/job/job_defaults.h"
#include "server/blob_store.h"
#include "server/job_planner.h"
#include "server/job_store.h"
#include "server/principal.h"
#include "server/shard_scheduler.h"

namespace emar {

// Time source, injectable for tests.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  static Clock* Real();
};

struct CoordinatorOptions {
  std::string data_dir;
  int64_t rows_per_shard = kDefaultRowsPerShard;
  // The largest input file, as uploaded and after decompression.
  uint64_t max_input_bytes = kDefaultMaxInputBytes;
  double max_bootstrap_work = kDefaultMaxBootstrapWork;  // see PlanJob
  SuiteLimits suite_limits;                              // see PlanJob
  SchedulerOptions scheduler;
  absl::Duration max_lease_wait = absl::Seconds(30);
  absl::Duration tick = absl::Milliseconds(50);  // lease expiry and long-poll timeout resolution
  // Jobs whose reports are built at once: a heavy job holds one of these, never the others.
  int finalizer_threads = 2;
  // CreateJob requests planned at once (reading and checking references); more wait in line.
  int planner_threads = 2;
  // False only for a scratch data dir that dies with the process (the embedded default): blobs
  // are then not fsynced. The job store stays synchronous either way.
  bool durable_blobs = true;
  // Receives the references tables CreateJob's planner parses (see PlanJob); the embedded mode's
  // worker threads take them. Empty: they are dropped.
  ParsedReferencesSink parsed_references;

  // --- quotas and retention ---
  // Unfinished jobs one principal may have at once (admins and the anonymous caller: no cap).
  int max_unfinished_jobs_per_principal = 100;
  // Bytes the blob store may hold; an upload that would pass it is refused. 0: no limit.
  int64_t max_store_bytes = 0;
  // Finished jobs older than this (since their last change) are deleted with the blobs no other
  // job reads, and so are uploads no job reads. InfiniteDuration: keep everything.
  absl::Duration retention = absl::InfiniteDuration();
  absl::Duration retention_interval = absl::Hours(1);
  // Workers must name a current lease of a shard reading the blob to read it (with --tokens).
  bool reads_need_lease = false;

  // Reuse a shard's statistics from an earlier job that read the same bytes with the same metric
  // and fields (server/content_keys.h) instead of scoring it again.
  bool score_cache = true;
};

class Coordinator {
 public:
  using LeaseCallback = std::function<void(std::optional<emar::v1::ShardTask>)>;
  using WatchCallback = std::function<void(const emar::v1::Job&)>;
  using CreateCallback = std::function<void(absl::StatusOr<emar::v1::Job>)>;

  // Opens (or creates) the data dir and resumes every unfinished job found there.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(CoordinatorOptions options,
                                                             Clock* clock = Clock::Real());
  ~Coordinator();  // Shutdown() then joins its threads.

  // Answers pending long-polls with no work and stops background threads. Idempotent.
  void Shutdown();

  // --- client side ---
  // Every client call names its caller: a principal sees only its own jobs and uploads (another
  // principal's job is NOT_FOUND, exactly like a job that does not exist); admins see all.
  std::vector<std::string> FindMissingBlobs(const std::vector<std::string>& sha256,
                                            const Principal& who = Principal::Anonymous());
  BlobStore& blobs() { return blobs_; }
  // For the upload reactor: is the blob stored and usable by `who` (no upload needed)?
  bool HasBlobFor(const std::string& sha256, const Principal& who);
  // RESOURCE_EXHAUSTED when `size` more bytes would pass --max-store-gb.
  absl::Status CheckStoreQuota(int64_t size) const;
  // `who` uploaded the blob (it may now use it in jobs).
  absl::Status RecordUpload(const std::string& sha256, const Principal& who);
  absl::StatusOr<emar::v1::Job> CreateJob(const emar::v1::CreateJobRequest& request,
                                          const Principal& who = Principal::Anonymous());
  // CreateJob on one of the planner threads (planning reads and checks whole files: it must not
  // run on a gRPC reaction thread); `done` runs there. After Shutdown, `done` gets UNAVAILABLE.
  void CreateJobAsync(emar::v1::CreateJobRequest request, CreateCallback done,
                      const Principal& who = Principal::Anonymous());
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id,
                                       const Principal& who = Principal::Anonymous());
  // A page of jobs, newest first, filtered by labels (see ListJobsRequest).
  absl::StatusOr<emar::v1::ListJobsResponse> ListJobs(
      const emar::v1::ListJobsRequest& request, const Principal& who = Principal::Anonymous());
  // The finished jobs carrying the request's labels, one point per job ordered by its `by`
  // label (numerically when every value is a number); other jobs with the labels are listed as
  // skipped, with why.
  absl::StatusOr<emar::v1::Series> GetSeries(const emar::v1::GetSeriesRequest& request,
                                             const Principal& who = Principal::Anonymous());
  absl::StatusOr<emar::v1::Job> CancelJob(const std::string& job_id,
                                          const Principal& who = Principal::Anonymous());
  absl::StatusOr<emar::v1::Report> GetReport(const std::string& job_id,
                                             const Principal& who = Principal::Anonymous());
  // Deletes a finished job, its results and report, and the blobs no remaining job reads.
  // FAILED_PRECONDITION while it is queued or running.
  absl::StatusOr<emar::v1::DeleteJobResponse> DeleteJob(
      const std::string& job_id, const Principal& who = Principal::Anonymous());
  // Applies --retention-days now: deletes finished jobs and unread uploads older than it.
  // Returns the jobs deleted. (A background thread calls it every retention_interval.)
  absl::StatusOr<int> RunRetention();
  // Calls `cb` with the current job at once, then after every change. Returns a handle for
  // Unwatch, or NOT_FOUND. `cb` may run concurrently from several threads. `on_shutdown` runs
  // (once, instead of further events) when the coordinator shuts down with the job unfinished:
  // the stream should end with UNAVAILABLE so the client re-attaches to the next instance.
  absl::StatusOr<uint64_t> Watch(const std::string& job_id, WatchCallback cb,
                                 std::function<void()> on_shutdown = nullptr,
                                 const Principal& who = Principal::Anonymous());
  void Unwatch(uint64_t handle);

  // --- worker side ---
  // Answers `cb` with a shard as soon as one is available, or with nothing after `wait`
  // (capped at max_lease_wait) or at shutdown. Returns a handle for CancelLeaseWait.
  uint64_t LeaseAsync(const std::string& worker_id, absl::Duration wait, LeaseCallback cb);
  // Drops a waiting long-poll (its RPC was cancelled); `cb` is then never called.
  // Returns false if the callback already ran or is running.
  bool CancelLeaseWait(uint64_t handle);
  absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(const emar::v1::HeartbeatRequest& req);
  absl::StatusOr<emar::v1::CompleteResponse> Complete(const emar::v1::CompleteRequest& req);
  // With reads_need_lease: PERMISSION_DENIED unless `lease_id` is a current lease of a shard
  // that reads blob `sha256`.
  absl::Status CheckBlobRead(const std::string& lease_id, const std::string& sha256);

  // The coordinator's metrics in the Prometheus text format (see README: Metrics): jobs by
  // state, queued and leased shards (the autoscaling signal), live workers, shard durations,
  // examples scored, blob store bytes.
  std::string MetricsText();

  // Runs lease expiry and long-poll timeouts now (the ticker thread calls this every tick).
  void Tick();
  // Blocks until no report is being built or queued (tests).
  void WaitForIdle();

 private:
  struct LeaseWaiter {
    std::string worker_id;
    absl::Time deadline;
    LeaseCallback cb;
  };
  struct Watcher {
    std::string job_id;
    WatchCallback cb;
    std::function<void()> on_shutdown;
  };
  using Notification = std::function<void()>;

  Coordinator(CoordinatorOptions options, Clock* clock, std::unique_ptr<JobStore> store);
  absl::Status Recover();
  void TickerLoop();
  void RetentionLoop();
  // Deletes the files of blobs the store says no job reads; returns (count, bytes).
  std::pair<int, int64_t> RemoveBlobFiles(const std::vector<std::string>& shas);
  void FinalizerLoop();
  void PlannerLoop();
  void Finalize(const std::string& job_id);
  // True when `req` names an earlier lease of its shard (answer: a duplicate, ignored); an error
  // when it names no lease of it; false for the shard's current lease.
  absl::StatusOr<bool> IsStaleLeaseLocked(const emar::v1::CompleteRequest& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Persists a shard's attempt count (outside mu_); a failure is logged.
  void SaveAttempts(const std::string& job_id, int32_t shard_id, int32_t attempts);
  // Moves a job to a terminal state, persists it (outside mu_) and tells watchers. Takes mu_.
  void FinishJob(const std::string& job_id, emar::v1::JobState state, const std::string& error);

  // Pairs waiting long-polls with pending shards; collects their callbacks into `out`.
  void DispatchLocked(std::vector<Notification>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues watch callbacks for the job's current state.
  void NotifyLocked(const std::string& job_id, std::vector<Notification>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CoordinatorOptions options_;
  Clock* const clock_;
  BlobStore blobs_;
  std::unique_ptr<JobStore> store_;

  absl::Mutex mu_;
  ShardScheduler scheduler_ ABSL_GUARDED_BY(mu_);
  // Jobs not yet terminal, with live progress.
  absl::flat_hash_map<std::string, emar::v1::Job> active_ ABSL_GUARDED_BY(mu_);
  // Jobs in their terminal state while FinishJob writes it to the store.
  absl::flat_hash_map<std::string, emar::v1::Job> finishing_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, LeaseWaiter> waiters_ ABSL_GUARDED_BY(mu_);  // ordered: FIFO by handle
  absl::flat_hash_map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<std::string> finalize_queue_ ABSL_GUARDED_BY(mu_);
  int finalizing_ ABSL_GUARDED_BY(mu_) = 0;  // reports being built now
  struct PlanItem {
    emar::v1::CreateJobRequest request;
    CreateCallback done;
    Principal who;
  };
  std::deque<PlanItem> plan_queue_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;

  // Metrics. Workers are named by their id without the thread suffix ("host-pid").
  absl::flat_hash_map<std::string, absl::Time> worker_seen_ ABSL_GUARDED_BY(mu_);
  struct LeaseStart {
    absl::Time at;
    std::string worker;
  };
  absl::flat_hash_map<std::string, LeaseStart> lease_started_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> shard_duration_buckets_ ABSL_GUARDED_BY(mu_);  // cumulative at render
  double shard_duration_sum_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shard_duration_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t examples_scored_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shards_reused_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t examples_reused_total_ ABSL_GUARDED_BY(mu_) = 0;
  void SeeWorkerLocked(const std::string& worker_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // At most once a minute (from Tick): forgets departed workers and leases that never finished.
  void SweepMetricsLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time next_metrics_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  // CreateJob holds it shared from resolving inputs to storing the job; deleting blob files holds
  // it exclusively, so a blob is never deleted between a plan's check and its job's row.
  absl::Mutex gc_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  std::thread ticker_;
  std::thread retention_;
  std::vector<std::thread> finalizers_;
  std::vector<std::thread> planners_;
};

}  // namespace emar

#endif  // EMAR_SERVER_COORDINATOR_H_
