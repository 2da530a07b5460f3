// The coordinator's logic, with no gRPC in it: validates and stores jobs, cuts their output files
// into shards, leases shards to workers (long-poll), stores results durably before acknowledging
// them, and builds the report when a job's last shard is in. The gRPC services
// (server/evaluation_service.h, server/worker_service.h) are thin adapters over this class.
//
//   ASSIGN_OR_RETURN(auto c, Coordinator::Create({.data_dir = "/var/lib/emar"}));
//   ASSIGN_OR_RETURN(Job job, c->CreateJob(request));
//   c->LeaseAsync("w1", absl::Seconds(10), [](std::optional<ShardTask> t) { ... });
//
// A facade over its parts, each with its own lock: the JobBoard (unfinished jobs and their
// watchers), the LeaseBroker (shards, leases, long-polls), BlobAccess (uploads, quota, reads,
// GC) and CoordinatorMetrics. It owns the lifecycle (recovery, threads, shutdown) and sequences
// the calls that touch several parts and the job store: creating, completing and finishing jobs.
//
// Thread-safe. Callbacks (lease answers, watch events) run on the caller's or the coordinator's
// own threads, never under a lock; they must not block for long.
#ifndef EMAR_SERVER_COORDINATOR_H_
#define EMAR_SERVER_COORDINATOR_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/periodic_task.h"
#include "common/work_queue.h"
#include "emar/v1/service.pb.h"
#include "eval/job/job_defaults.h"
#include "server/blob_access.h"
#include "server/blob_store.h"
#include "server/clock.h"
#include "server/coordinator_metrics.h"
#include "server/input_fetch.h"
#include "server/job_board.h"
#include "server/job_planner.h"
#include "server/job_store.h"
#include "server/lease_broker.h"
#include "server/principal.h"
#include "server/service_cores.h"
#include "server/shard_scheduler.h"

namespace emar {

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
  // are then not fsynced, and neither is the job store, which also takes large pages and is not
  // checkpointed (JobStore::Open).
  bool durable_blobs = true;
  // Receives the references tables CreateJob's planner parses (see PlanJob); the embedded mode's
  // worker threads take them. Empty: they are dropped.
  ParsedReferencesSink parsed_references;
  // Called on a finalizer thread before each report is built: the embedded mode's worker threads
  // drop the references tables they keep, which the job's report does not need.
  std::function<void()> before_finalize;
  // After building a report, the memory its per-example statistics took is handed back to the
  // system (malloc_trim: tens of milliseconds of merging free lists). False for a process that
  // exits once its job is done (`emarctl run`), where that would only delay the exit.
  bool trim_after_report = true;
  // Inputs named by reference (file:// under input_roots, https://), read at CreateJob. Its
  // max_bytes is set by Create from max_input_bytes.
  InputFetchOptions input_fetch;

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
  // Whether one principal's jobs reuse another's cached statistics. Off: each principal's entries
  // are its own (a principal's worker results never reach another's report), at the cost of
  // scoring shared inputs (a common base model) once per principal. Without --tokens every job
  // is the same anonymous principal's, so all entries are shared either way.
  bool share_score_cache = false;
};

class Coordinator final : public ClientCore, public WorkerCore {
 public:
  using LeaseCallback = WorkerCore::LeaseCallback;
  using WatchCallback = ClientCore::WatchCallback;
  using CreateCallback = ClientCore::CreateCallback;

  // Opens (or creates) the data dir and resumes every unfinished job found there.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(CoordinatorOptions options,
                                                             Clock* clock = Clock::Real());
  ~Coordinator() override;  // Shutdown() then joins its threads.

  // Answers pending long-polls with no work and stops background threads. Idempotent.
  void Shutdown();

  // Uploads, their owners, quota, lease-checked reads (for the upload and read reactors).
  BlobAccess& blob_access() { return blobs_; }
  // The blob bytes themselves.
  BlobStore& blobs() { return blob_store_; }
  // The durable state (tests and inspection read the score cache's entries through it; online
  // backups copy it, server/admin_service.h), and the data dir.
  JobStore& job_store() { return *store_; }
  const std::string& data_dir() const { return options_.data_dir; }

  // --- client side ---
  // Every client call names its caller: a principal sees only its own jobs and uploads (another
  // principal's job is NOT_FOUND, exactly like a job that does not exist); admins see all.
  std::vector<std::string> FindMissingBlobs(const std::vector<std::string>& sha256,
                                            const Principal& who = Principal::Anonymous());
  absl::StatusOr<emar::v1::Job> CreateJob(const emar::v1::CreateJobRequest& request,
                                          const Principal& who = Principal::Anonymous());
  // CreateJob on one of the planner threads (planning reads and checks whole files: it must not
  // run on a gRPC reaction thread); `done` runs there. After Shutdown, `done` gets UNAVAILABLE.
  void CreateJobAsync(emar::v1::CreateJobRequest request, CreateCallback done,
                      const Principal& who = Principal::Anonymous()) override;
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id,
                                       const Principal& who = Principal::Anonymous()) override;
  // A page of jobs, newest first, filtered by labels (see ListJobsRequest).
  absl::StatusOr<emar::v1::ListJobsResponse> ListJobs(
      const emar::v1::ListJobsRequest& request,
      const Principal& who = Principal::Anonymous()) override;
  // The finished jobs carrying the request's labels, one point per job ordered by its `by`
  // label (see server/series_builder.h).
  absl::StatusOr<emar::v1::Series> GetSeries(
      const emar::v1::GetSeriesRequest& request,
      const Principal& who = Principal::Anonymous()) override;
  absl::StatusOr<emar::v1::Job> CancelJob(const std::string& job_id,
                                          const Principal& who = Principal::Anonymous()) override;
  absl::StatusOr<emar::v1::Report> GetReport(
      const std::string& job_id, const Principal& who = Principal::Anonymous()) override;
  // Deletes a finished job, its results and report, and the blobs no remaining job reads.
  // FAILED_PRECONDITION while it is queued or running.
  absl::StatusOr<emar::v1::DeleteJobResponse> DeleteJob(
      const std::string& job_id, const Principal& who = Principal::Anonymous()) override;
  // Admin only (PERMISSION_DENIED otherwise): forgets the score cache entries of a job, or of a
  // blob digest or cache key (JobStore::DropCacheEntries). Reports already built stay.
  absl::StatusOr<emar::v1::DropCacheResponse> DropCache(
      const emar::v1::DropCacheRequest& request,
      const Principal& who = Principal::Anonymous()) override;
  // Applies --retention-days now: deletes finished jobs and unread uploads older than it.
  // Returns the jobs deleted. (A background thread calls it every retention_interval.)
  absl::StatusOr<int> RunRetention();
  // Calls `cb` with the current job at once, then after every change. Returns a handle for
  // Unwatch, or NOT_FOUND. `cb` may run concurrently from several threads. `on_shutdown` runs
  // (once, instead of further events) when the coordinator shuts down with the job unfinished:
  // the stream should end with UNAVAILABLE so the client re-attaches to the next instance.
  absl::StatusOr<uint64_t> Watch(const std::string& job_id, WatchCallback cb,
                                 std::function<void()> on_shutdown = nullptr,
                                 const Principal& who = Principal::Anonymous()) override;
  void Unwatch(uint64_t handle) override;
  // The items a candidate learned or forgot (server/report_flips.h), from the stored per-example
  // statistics of a SUCCEEDED job (FAILED_PRECONDITION otherwise).
  absl::StatusOr<std::vector<emar::v1::FlipItem>> ListFlips(
      const emar::v1::ListFlipsRequest& request,
      const Principal& who = Principal::Anonymous()) override;

  // --- worker side ---
  // Answers `cb` with a shard as soon as one is available, or with nothing after `wait`
  // (capped at max_lease_wait) or at shutdown. Returns a handle for CancelLeaseWait.
  uint64_t LeaseAsync(const std::string& worker_id, absl::Duration wait, LeaseCallback cb) override;
  // Drops a waiting long-poll (its RPC was cancelled); `cb` is then never called.
  // Returns false if the callback already ran or is running.
  bool CancelLeaseWait(uint64_t handle) override;
  std::optional<emar::v1::ShardTask> TryLease(const std::string& worker_id) override;
  absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(
      const emar::v1::HeartbeatRequest& req) override;
  absl::StatusOr<emar::v1::CompleteResponse> Complete(
      const emar::v1::CompleteRequest& req) override;

  // The coordinator's metrics in the Prometheus text format (see docs/monitoring.md): jobs by
  // state, queued and leased shards (the autoscaling signal), live workers, shard durations,
  // examples scored, blob store bytes.
  std::string MetricsText();

  // Why the coordinator should get no traffic now (its /readyz), empty when ready: while the job
  // store's disk is full (from a write that failed for lack of space until one succeeds; a probe
  // write is tried every second meanwhile).
  std::string NotReadyReason();

  // Runs lease expiry and long-poll timeouts now (the ticker thread calls this every tick).
  void Tick();
  // Blocks until no report is being built or queued (tests).
  void WaitForIdle();

 private:
  Coordinator(CoordinatorOptions options, Clock* clock, std::unique_ptr<JobStore> store);
  // Puts every unfinished job of the store back on the board and in the broker; returns those
  // whose shards are all done (their reports are to be built).
  absl::StatusOr<std::vector<std::string>> Recover();
  void StartThreads();

  // CreateJob's phases.
  // The job an earlier request with the same id created (nullopt: none), or ALREADY_EXISTS when
  // that request asked for something else.
  absl::StatusOr<std::optional<emar::v1::Job>> FindRetry(const emar::v1::CreateJobRequest& request,
                                                         const std::string& fingerprint,
                                                         const Principal& who);
  // A reservation of one of a principal's unfinished-job slots, released when it goes.
  class JobSlot {
   public:
    JobSlot(JobBoard* board, std::string owner) : board_(board), owner_(std::move(owner)) {}
    JobSlot(JobSlot&& other) noexcept
        : board_(std::exchange(other.board_, nullptr)), owner_(std::move(other.owner_)) {}
    JobSlot(const JobSlot&) = delete;
    ~JobSlot() {
      if (board_ != nullptr) board_->ReleaseJobSlot(owner_);
    }

   private:
    JobBoard* board_;  // null: nothing reserved (admins)
    std::string owner_;
  };
  // Labels, and a slot under the per-principal cap on unfinished jobs.
  absl::StatusOr<JobSlot> CheckAdmission(const emar::v1::CreateJobRequest& request,
                                         const Principal& who);
  // Puts a stored job on the board and its shards in the broker; returns it as created.
  // `planning`: how long CreateJob took (logged with job_created).
  emar::v1::Job Admit(const emar::v1::Job& job, JobPlan* plan, const std::vector<int32_t>& reused,
                      absl::Duration planning);

  // Complete's two answers.
  absl::StatusOr<emar::v1::CompleteResponse> CompleteFailure(const emar::v1::CompleteRequest& req);
  absl::StatusOr<emar::v1::CompleteResponse> CompleteResult(const emar::v1::CompleteRequest& req);

  // The broker leased a shard: its job is RUNNING now (persisted after the broker's lock).
  void OnLeased(const emar::v1::ShardTask& task, absl::Time now);
  // Builds the job's report on a finalizer thread.
  void QueueFinalize(const std::string& job_id);
  void Finalize(const std::string& job_id);
  // Records a job store write's outcome: a full disk starts an outage (leases do not expire, and
  // results, reports and new jobs wait for space), any successful write ends it.
  void NoteStoreWrite(const absl::Status& s);
  bool StorageFull() const;
  // During an outage, at most every second: a small write, which ends it once space is back.
  void ProbeStorage();
  // Persists a shard's attempt count; a failure is logged.
  void SaveAttempts(const std::string& job_id, int32_t shard_id, int32_t attempts);
  // Moves a job to a terminal state, persists it and tells watchers.
  void FinishJob(const std::string& job_id, emar::v1::JobState state, const std::string& error);

  // --- constant after construction ---
  const CoordinatorOptions options_;
  Clock* const clock_;
  BlobStore blob_store_;
  const std::unique_ptr<JobStore> store_;

  // --- the parts; each has its own lock, none is called under another's ---
  CoordinatorMetrics metrics_;
  JobBoard board_;
  LeaseBroker broker_;
  BlobAccess blobs_;

  // --- a full disk (see NoteStoreWrite) ---
  mutable absl::Mutex outage_mu_;
  std::string storage_full_ ABSL_GUARDED_BY(outage_mu_);  // the error; empty: none
  absl::Time storage_full_since_ ABSL_GUARDED_BY(outage_mu_);
  absl::Time last_probe_ ABSL_GUARDED_BY(outage_mu_);
  absl::Time expire_after_ ABSL_GUARDED_BY(outage_mu_) = absl::InfinitePast();

  // When each unfinished job's first shard was leased (job_finished logs the time it queued).
  absl::Mutex started_mu_;
  absl::flat_hash_map<std::string, absl::Time> started_ ABSL_GUARDED_BY(started_mu_);

  // --- threads: started by Create, stopped by Shutdown, joined by the destructor ---
  std::atomic<bool> shutdown_{false};
  std::unique_ptr<WorkQueue> planners_;
  std::unique_ptr<WorkQueue> finalizers_;
  std::unique_ptr<PeriodicTask> ticker_;
  std::unique_ptr<PeriodicTask> retention_;
};

}  // namespace emar

#endif  // EMAR_SERVER_COORDINATOR_H_
