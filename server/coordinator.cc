#include "server/coordinator.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/file_util.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "server/content_keys.h"
#include "server/input_references.h"
#include "server/job_intake.h"
#include "server/report_flips.h"
#include "server/series_builder.h"
#include "server/storage_full.h"
#include "server/stored_job_report.h"

namespace emar {
namespace {

// A write to the job store that failed where the coordinator can carry on (the state is
// re-derived on recovery): never silent.
void LogIfFailed(const absl::Status& s, absl::string_view what) {
  if (!s.ok()) {
    Notice(LogLevel::kError, "store_write_failed",
           absl::StrCat("emar-coordinator: ", what, ": ", s.ToString()),
           {{"what", std::string(what)}, {"error", std::string(s.message())}});
  }
}

// What a caller learns about a job it may not see: exactly what it would for no such job.
absl::Status NoSuchJob(const std::string& job_id) {
  return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
}

// Planning and finalization hold memory in proportion to the job, in large blocks malloc keeps
// for reuse in several threads' arenas; outside them the coordinator needs little, so the pages
// go back to the system (glibc's malloc_trim also releases free pages inside its heaps).
void ReturnFreedMemory() { ::malloc_trim(0); }

absl::Status Unavailable() {
  return absl::UnavailableError("the coordinator is shutting down; retry CreateJob");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Lifecycle and recovery

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(CoordinatorOptions options,
                                                                 Clock* clock) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  RETURN_IF_ERROR(MakeDirs(options.data_dir));
  // One limit for uploads and inputs by reference (--max-input-mb).
  options.input_fetch.max_bytes = static_cast<int64_t>(options.max_input_bytes);
  ASSIGN_OR_RETURN(auto store, JobStore::Open(absl::StrCat(options.data_dir, "/jobs.db"),
                                              options.durable_blobs));
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options), clock, std::move(store)));
  RETURN_IF_ERROR(c->blob_store_.Init());
  ASSIGN_OR_RETURN(std::vector<std::string> complete, c->Recover());
  c->StartThreads();
  for (const std::string& id : complete) c->QueueFinalize(id);
  return c;
}

Coordinator::Coordinator(CoordinatorOptions options, Clock* clock, std::unique_ptr<JobStore> store)
    : options_(std::move(options)),
      clock_(clock),
      blob_store_(options_.data_dir, options_.durable_blobs),
      store_(std::move(store)),
      metrics_(options_.scheduler.lease_ttl),
      broker_({.scheduler = options_.scheduler, .max_lease_wait = options_.max_lease_wait}, clock_,
              &metrics_,
              [this](const emar::v1::ShardTask& t, absl::Time now) { OnLeased(t, now); }),
      blobs_(&blob_store_, store_.get(),
             {.max_store_bytes = options_.max_store_bytes,
              .reads_need_lease = options_.reads_need_lease},
             [this](const std::string& lease_id) { return broker_.LeasedTask(lease_id); }) {}

void Coordinator::StartThreads() {
  planners_ = std::make_unique<WorkQueue>(options_.planner_threads);
  finalizers_ = std::make_unique<WorkQueue>(options_.finalizer_threads);
  ticker_ = std::make_unique<PeriodicTask>(options_.tick, [this] { Tick(); });
  if (options_.retention != absl::InfiniteDuration()) {
    retention_ = std::make_unique<PeriodicTask>(
        options_.retention_interval, [this] { LogIfFailed(RunRetention().status(), "retention"); },
        PeriodicTask::kAtOnce);
  }
}

Coordinator::~Coordinator() {
  Shutdown();
  // Joined first: their tasks use every other member.
  ticker_.reset();
  retention_.reset();
  finalizers_.reset();
  planners_.reset();
}

void Coordinator::Shutdown() {
  if (shutdown_.exchange(true)) return;
  broker_.Shutdown();                                    // long-polls answered with no work
  board_.Shutdown();                                     // watches ended with their on_shutdown
  if (planners_) planners_->Stop(WorkQueue::kDrop);      // queued CreateJobs answered UNAVAILABLE
  if (finalizers_) finalizers_->Stop(WorkQueue::kDrop);  // rebuilt after a restart
  if (ticker_) ticker_->Stop();
  if (retention_) retention_->Stop();
}

absl::StatusOr<std::vector<std::string>> Coordinator::Recover() {
  const absl::Time started = absl::Now();
  ASSIGN_OR_RETURN(std::vector<std::string> ids, store_->ActiveJobIds());
  std::vector<std::string> complete;
  int64_t shards_pending = 0;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(emar::v1::Job job, store_->GetJob(id));
    ASSIGN_OR_RETURN(std::vector<StoredShard> shards, store_->GetShards(id));
    std::vector<emar::v1::ShardTask> pending;
    absl::flat_hash_map<int32_t, int32_t> attempts;
    int done = 0, reused = 0;
    int64_t scored = 0, examples_reused = 0;
    for (StoredShard& s : shards) {
      if (s.done) {
        ++done;
        (s.reused ? examples_reused : scored) += s.rows;
        reused += s.reused;
      } else {
        attempts[s.task.shard_id()] = s.attempts;
        s.task.set_job_id(id);  // stored tasks of older versions may lack it
        s.task.set_rows(s.rows);
        pending.push_back(std::move(s.task));
      }
    }
    job.mutable_progress()->set_shards_done(done);
    job.mutable_progress()->set_examples_scored(scored);
    job.mutable_progress()->set_shards_reused(reused);
    job.mutable_progress()->set_examples_reused(examples_reused);
    board_.Add(job);
    shards_pending += static_cast<int64_t>(pending.size());
    broker_.AddJob(id, std::move(pending), static_cast<int>(shards.size()), done, attempts);
    if (done == static_cast<int>(shards.size())) complete.push_back(id);
  }
  // What a restarted coordinator picked up (nothing to say on a fresh or idle store).
  if (!ids.empty()) {
    LogEvent("jobs_resumed", {{"jobs", ids.size()},
                              {"shards_pending", shards_pending},
                              {"jobs_to_finalize", complete.size()},
                              {"duration_ms", DurationMs(absl::Now() - started)}});
  }
  return complete;
}

void Coordinator::Tick() {
  metrics_.Sweep(clock_->Now());
  // While the disk is full no result can be stored: leases stay as they are (their workers hold
  // the results and retry), and no attempt is spent on the outage.
  const bool full = StorageFull();
  if (full) ProbeStorage();
  bool expire = !full;
  {
    absl::MutexLock lock(&outage_mu_);
    expire = expire && clock_->Now() >= expire_after_;
  }
  for (const SchedulerEvent& e : broker_.Tick(/*expire_leases=*/expire)) {
    if (e.job_failed) {
      FinishJob(e.job_id, emar::v1::JOB_STATE_FAILED, e.message);
    } else {
      SaveAttempts(e.job_id, e.shard_id, e.attempts);
    }
  }
}

void Coordinator::WaitForIdle() { finalizers_->WaitIdle(); }

void Coordinator::NoteStoreWrite(const absl::Status& s) {
  if (!s.ok() && !IsStorageFull(s)) return;
  if (s.ok()) {
    absl::Duration lasted;
    {
      absl::MutexLock lock(&outage_mu_);
      if (storage_full_.empty()) return;
      lasted = clock_->Now() - storage_full_since_;
    }
    // Leases were kept through the outage; their workers may have waited on results the whole
    // time without heartbeating: a full TTL from now for each, before expiry resumes.
    broker_.RenewLeases();
    {
      absl::MutexLock lock(&outage_mu_);
      storage_full_.clear();
      // And no lease expires within a TTL of the outage's end, however the workers' beats fell.
      expire_after_ = clock_->Now() + options_.scheduler.lease_ttl;
    }
    LogEvent("storage_recovered",
             {{"seconds", absl::ToDoubleSeconds(lasted)}, {"duration_ms", DurationMs(lasted)}});
    return;
  }
  absl::MutexLock lock(&outage_mu_);
  if (storage_full_.empty()) {
    storage_full_since_ = last_probe_ = clock_->Now();
    LogEvent("storage_full", {{"error", std::string(s.message())}});
  }
  storage_full_ = std::string(s.message());
}

bool Coordinator::StorageFull() const {
  absl::MutexLock lock(&outage_mu_);
  return !storage_full_.empty();
}

void Coordinator::ProbeStorage() {
  {
    absl::MutexLock lock(&outage_mu_);
    if (clock_->Now() - last_probe_ < absl::Seconds(1)) return;
    last_probe_ = clock_->Now();
  }
  NoteStoreWrite(store_->ProbeWrite(absl::ToUnixMillis(clock_->Now())));
}

std::string Coordinator::NotReadyReason() {
  absl::MutexLock lock(&outage_mu_);
  if (storage_full_.empty()) return "";
  return absl::StrCat("job store out of space since ", absl::FormatTime(storage_full_since_), " (",
                      storage_full_,
                      "): results, reports and new jobs wait for space; free some in --data-dir");
}

std::string Coordinator::MetricsText() {
  CoordinatorGauges gauges;
  if (auto counted = store_->CountJobsByState(); counted.ok()) {
    for (const auto& [state, n] : *counted) {
      if (state >= 0 && state < emar::v1::JobState_ARRAYSIZE) gauges.jobs[state] = n;
    }
  }
  // Unfinished jobs from memory: the store's QUEUED/RUNNING split lags (written after).
  gauges.jobs[emar::v1::JOB_STATE_QUEUED] = gauges.jobs[emar::v1::JOB_STATE_RUNNING] = 0;
  board_.CountUnfinished(gauges.jobs);
  gauges.queued_shards = static_cast<int64_t>(broker_.pending_count());
  gauges.leased_shards = static_cast<int64_t>(broker_.lease_count());
  gauges.blob_store_bytes = blobs_.used_bytes();
  gauges.blob_store_limit_bytes = options_.max_store_bytes;
  return metrics_.Text(gauges, clock_->Now());
}

// ---------------------------------------------------------------------------------------------
// Creating jobs

std::vector<std::string> Coordinator::FindMissingBlobs(const std::vector<std::string>& sha256,
                                                       const Principal& who) {
  return blobs_.FindMissing(sha256, who);
}

absl::StatusOr<std::optional<emar::v1::Job>> Coordinator::FindRetry(
    const emar::v1::CreateJobRequest& request, const std::string& fingerprint,
    const Principal& who) {
  if (request.request_id().empty()) return std::nullopt;
  ASSIGN_OR_RETURN(auto existing, store_->FindJobByRequestId(who.name, request.request_id()));
  if (!existing) return std::nullopt;
  // The same request id: a retry gets its job; different content under it is a mistake that
  // must not silently return another job's report.
  if (!existing->fingerprint.empty() && existing->fingerprint != fingerprint) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id '", request.request_id(), "' already created job ", existing->job_id,
        " with a different spec or different inputs; use a new request id for a new job "
        "(or `emarctl report ",
        existing->job_id, "` for that job's report)"));
  }
  return GetJob(existing->job_id, who);
}

absl::StatusOr<Coordinator::JobSlot> Coordinator::CheckAdmission(
    const emar::v1::CreateJobRequest& request, const Principal& who) {
  RETURN_IF_ERROR(CheckLabels(request.spec().labels()));
  if (who.admin()) return JobSlot(nullptr, "");
  // Reserved under the board's lock before planning starts (and released by the slot when the
  // job is on the board or was refused): concurrent CreateJobs cannot all pass the check.
  int held = 0;
  if (board_.ReserveJobSlot(who.name, options_.max_unfinished_jobs_per_principal, &held)) {
    return JobSlot(&board_, who.name);
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("principal '", who.name, "' has ", held,
                   " unfinished jobs, the limit per "
                   "principal (--max-jobs-per-principal); wait for some to finish or cancel them"));
}

absl::StatusOr<emar::v1::Job> Coordinator::CreateJob(const emar::v1::CreateJobRequest& original,
                                                     const Principal& who) {
  const absl::Time started = absl::Now();
  // Inputs named by reference become URIs without their query and stated digests: the request
  // the job is made of, fingerprinted and stored (docs/inputs.md).
  ASSIGN_OR_RETURN(ReferencedInputs referenced, ResolveInputReferences(original));
  const emar::v1::CreateJobRequest& request = referenced.request;
  const std::string fingerprint = RequestFingerprint(request);
  ASSIGN_OR_RETURN(std::optional<emar::v1::Job> retried, FindRetry(request, fingerprint, who));
  if (retried) return *std::move(retried);
  ASSIGN_OR_RETURN(const JobSlot slot, CheckAdmission(request, who));
  RETURN_IF_ERROR(FetchReferencedInputs(referenced.refs, options_.input_fetch, &blobs_, who));
  BlobAccess::Pin pin(&blobs_);  // no blob file is deleted until the job's row is stored
  RETURN_IF_ERROR(blobs_.CheckInputs(request, who));
  ASSIGN_OR_RETURN(JobPlan plan, PlanJob(request, blob_store_, options_.rows_per_shard,
                                         options_.max_input_bytes, options_.max_bootstrap_work,
                                         options_.parsed_references, options_.suite_limits));
  emar::v1::Job job =
      NewQueuedJob(&plan, request, who, clock_->Now(),
                   {.enabled = options_.score_cache, .shared = options_.share_score_cache});
  absl::StatusOr<std::vector<int32_t>> reused =
      store_->CreateJob(job, plan.request, plan.shards, fingerprint);
  NoteStoreWrite(reused.status());
  if (absl::IsAlreadyExists(reused.status()) && !request.request_id().empty()) {
    // Lost a race with a request under the same id: answer as if it had come first.
    ASSIGN_OR_RETURN(retried, FindRetry(request, fingerprint, who));
    if (retried) return *std::move(retried);
  }
  RETURN_IF_ERROR(reused.status());
  return Admit(job, &plan, *reused, absl::Now() - started);
}

emar::v1::Job Coordinator::Admit(const emar::v1::Job& stored, JobPlan* plan,
                                 const std::vector<int32_t>& reused, absl::Duration planning) {
  emar::v1::Job job = stored;
  IntakeShards shards = SplitReused(plan, reused, &job);
  LogEvent("job_created", {{"job", job.job_id()},
                           {"name", job.name()},
                           {"owner", job.owner()},
                           {"shards", shards.total},
                           {"shards_reused", shards.reused},
                           {"duration_ms", DurationMs(planning)}});
  metrics_.Reused(shards.reused, shards.examples_reused);
  board_.Add(job);
  broker_.AddJob(job.job_id(), std::move(shards.to_score), shards.total, shards.reused);
  // Every shard reused: nothing to score, straight to the report.
  if (shards.reused == shards.total) QueueFinalize(job.job_id());
  return job;
}

void Coordinator::CreateJobAsync(emar::v1::CreateJobRequest request, CreateCallback done,
                                 const Principal& who) {
  if (planners_ == nullptr || shutdown_) {
    done(Unavailable());
    return;
  }
  planners_->Push(
      [this, request = std::move(request), done, who] {
        done(CreateJob(request, who));
        ReturnFreedMemory();  // the plan's references tables
      },
      [done] { done(Unavailable()); });
}

// ---------------------------------------------------------------------------------------------
// Reading, cancelling and deleting jobs

absl::StatusOr<emar::v1::Job> Coordinator::GetJob(const std::string& job_id, const Principal& who) {
  std::optional<emar::v1::Job> job = board_.Find(job_id);
  if (!job) {
    ASSIGN_OR_RETURN(job, store_->GetJob(job_id));
  }
  if (!who.Sees(job->owner())) return NoSuchJob(job_id);
  return *std::move(job);
}

absl::StatusOr<emar::v1::ListJobsResponse> Coordinator::ListJobs(
    const emar::v1::ListJobsRequest& request, const Principal& who) {
  constexpr int kMaxPage = 1000;
  JobQuery query;
  query.limit = request.limit() <= 0 ? 50 : std::min(request.limit(), kMaxPage);
  if (!who.admin()) query.owner = who.name;
  for (const auto& [key, value] : request.labels()) query.labels.emplace_back(key, value);
  std::sort(query.labels.begin(), query.labels.end());  // map order is unspecified
  for (int state : request.states()) {
    query.states.push_back(static_cast<emar::v1::JobState>(state));
  }
  query.page_token = request.page_token();
  ASSIGN_OR_RETURN(JobPage page, store_->QueryJobs(query));
  board_.Refresh(&page.jobs);  // live progress of unfinished jobs (the store's copy lags)
  emar::v1::ListJobsResponse response;
  response.set_next_page_token(page.next_page_token);
  for (emar::v1::Job& j : page.jobs) *response.add_jobs() = std::move(j);
  return response;
}

absl::StatusOr<emar::v1::Series> Coordinator::GetSeries(const emar::v1::GetSeriesRequest& request,
                                                        const Principal& who) {
  RETURN_IF_ERROR(CheckSeriesRequest(request));
  emar::v1::ListJobsRequest list;
  *list.mutable_labels() = request.labels();
  list.set_limit(1000);
  std::vector<emar::v1::Job> jobs;
  do {
    ASSIGN_OR_RETURN(emar::v1::ListJobsResponse page, ListJobs(list, who));
    for (emar::v1::Job& j : *page.mutable_jobs()) jobs.push_back(std::move(j));
    list.set_page_token(page.next_page_token());
    if (jobs.size() > kMaxSeriesJobs) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", kMaxSeriesJobs, " jobs carry these labels; narrow them (add a label)"));
    }
  } while (!list.page_token().empty());
  return BuildSeries(request, jobs,
                     [this](const std::string& job_id) { return store_->GetReport(job_id); });
}

absl::StatusOr<emar::v1::Job> Coordinator::CancelJob(const std::string& job_id,
                                                     const Principal& who) {
  ASSIGN_OR_RETURN(emar::v1::Job job, GetJob(job_id, who));
  if (IsTerminalJobState(job.state())) return job;
  FinishJob(job_id, emar::v1::JOB_STATE_CANCELLED, "cancelled by request");
  return GetJob(job_id);
}

absl::StatusOr<emar::v1::Report> Coordinator::GetReport(const std::string& job_id,
                                                        const Principal& who) {
  ASSIGN_OR_RETURN(emar::v1::Job job, GetJob(job_id, who));
  if (job.state() != emar::v1::JOB_STATE_SUCCEEDED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job '", job_id, "' has no report: it is ", emar::v1::JobState_Name(job.state()),
        job.error().empty() ? "" : absl::StrCat(" (", job.error(), ")")));
  }
  return store_->GetReport(job_id);
}

absl::StatusOr<std::vector<emar::v1::FlipItem>> Coordinator::ListFlips(
    const emar::v1::ListFlipsRequest& request, const Principal& who) {
  RETURN_IF_ERROR(GetReport(request.job_id(), who).status());  // SUCCEEDED and the caller's
  ASSIGN_OR_RETURN(StoredJobResults stored,
                   AssembleStoredJob(request.job_id(), *store_, blob_store_));
  std::vector<emar::v1::FlipItem> items;
  RETURN_IF_ERROR(ListStoredFlips(stored, request, blob_store_, [&](emar::v1::FlipItem item) {
    items.push_back(std::move(item));
    return absl::OkStatus();
  }));
  return items;
}

absl::StatusOr<emar::v1::DeleteJobResponse> Coordinator::DeleteJob(const std::string& job_id,
                                                                   const Principal& who) {
  ASSIGN_OR_RETURN(emar::v1::Job job, GetJob(job_id, who));
  if (!IsTerminalJobState(job.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("job '", job_id, "' is ", emar::v1::JobState_Name(job.state()),
                     "; cancel it first (emarctl cancel ", job_id, ")"));
  }
  ASSIGN_OR_RETURN(BlobsFreed freed, blobs_.DeleteJob(job_id));
  emar::v1::DeleteJobResponse resp;
  resp.set_job_id(job_id);
  resp.set_blobs_removed(freed.removed);
  resp.set_bytes_freed(freed.bytes);
  return resp;
}

absl::StatusOr<emar::v1::DropCacheResponse> Coordinator::DropCache(
    const emar::v1::DropCacheRequest& request, const Principal& who) {
  if (!who.admin()) {
    return absl::PermissionDeniedError(
        absl::StrCat("principal '", who.name, "' has a ", RoleName(who.role),
                     " token; dropping score cache entries needs an admin token"));
  }
  if (request.job_id().empty() == request.digest().empty()) {
    return absl::InvalidArgumentError("name exactly one of job_id and digest");
  }
  if (!request.digest().empty() && !IsSha256Hex(request.digest())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "digest '", request.digest(), "' is not 64 lowercase hex characters (a sha256)"));
  }
  ASSIGN_OR_RETURN(const int64_t dropped,
                   store_->DropCacheEntries(request.job_id(), request.digest()));
  LogEvent("cache_dropped", {{"job", request.job_id()},
                             {"digest", request.digest()},
                             {"by", who.name},
                             {"entries", dropped}});
  emar::v1::DropCacheResponse resp;
  resp.set_entries_dropped(dropped);
  return resp;
}

absl::StatusOr<int> Coordinator::RunRetention() {
  if (options_.retention == absl::InfiniteDuration()) return 0;
  const absl::Time cutoff = clock_->Now() - options_.retention;
  ASSIGN_OR_RETURN(std::vector<std::string> old_jobs,
                   store_->FinishedJobsUpdatedBefore(absl::ToUnixMillis(cutoff)));
  int deleted = 0;
  for (const std::string& id : old_jobs) {
    absl::StatusOr<emar::v1::DeleteJobResponse> r = DeleteJob(id);
    if (r.ok()) {
      ++deleted;
    } else if (!absl::IsNotFound(r.status())) {
      LogIfFailed(r.status(), "retention: deleting " + id);
    }
  }
  // Uploads that no job reads (never used, or their jobs are gone), stored before the cutoff.
  ASSIGN_OR_RETURN(BlobsFreed freed, blobs_.RemoveUnreadBefore(cutoff));
  if (deleted > 0 || freed.removed > 0) {
    Notice(LogLevel::kInfo, "retention",
           absl::StrCat("emar-coordinator: retention removed ", deleted, " job(s) and ",
                        freed.removed, " unread blob(s), ", freed.bytes, " bytes"),
           {{"jobs", deleted},
            {"blobs", static_cast<int64_t>(freed.removed)},
            {"bytes", static_cast<int64_t>(freed.bytes)}});
  }
  return deleted;
}

absl::StatusOr<uint64_t> Coordinator::Watch(const std::string& job_id, WatchCallback cb,
                                            std::function<void()> on_shutdown,
                                            const Principal& who) {
  ASSIGN_OR_RETURN(JobBoard::WatchStart start,
                   board_.Watch(job_id, cb, std::move(on_shutdown), who));
  if (!start.snapshot) {
    // Terminal (or unknown): the snapshot is all there will ever be.
    ASSIGN_OR_RETURN(start.snapshot, store_->GetJob(job_id));
  }
  if (!who.Sees(start.snapshot->owner())) return NoSuchJob(job_id);
  cb(*start.snapshot);
  return start.handle.value_or(0);
}

void Coordinator::Unwatch(uint64_t handle) { board_.Unwatch(handle); }

// ---------------------------------------------------------------------------------------------
// Finishing jobs

void Coordinator::QueueFinalize(const std::string& job_id) {
  finalizers_->Push([this, job_id] {
    if (options_.before_finalize) options_.before_finalize();
    Finalize(job_id);
    if (options_.trim_after_report) ReturnFreedMemory();  // the per-example statistics
  });
}

void Coordinator::Finalize(const std::string& job_id) {
  const absl::Time started = absl::Now();
  absl::StatusOr<emar::v1::Report> report = BuildStoredJobReport(job_id, *store_, blob_store_);
  LogEvent("report_built", {{"job", job_id},
                            {"ok", report.ok() ? "true" : "false"},
                            {"duration_ms", DurationMs(absl::Now() - started)}});
  if (!report.ok()) {
    FinishJob(job_id, emar::v1::JOB_STATE_FAILED, std::string(report.status().message()));
    return;
  }
  absl::Status saved = store_->SaveReport(job_id, *report);
  NoteStoreWrite(saved);
  // Out of space: the report waits for it (the job stays RUNNING; after a restart it is
  // rebuilt), instead of failing a job whose every result is stored.
  while (IsStorageFull(saved) && !shutdown_) {
    absl::SleepFor(absl::Seconds(1));
    saved = store_->SaveReport(job_id, *report);
    NoteStoreWrite(saved);
  }
  if (IsStorageFull(saved)) return;  // shutting down
  LogEvent("report_saved", {{"job", job_id},
                            {"ok", saved.ok() ? "true" : "false"},
                            {"duration_ms", DurationMs(absl::Now() - started)}});
  if (!saved.ok()) {
    FinishJob(job_id, emar::v1::JOB_STATE_FAILED,
              absl::StrCat("saving the report: ", saved.message()));
    return;
  }
  FinishJob(job_id, emar::v1::JOB_STATE_SUCCEEDED, "");
}

void Coordinator::FinishJob(const std::string& job_id, emar::v1::JobState state,
                            const std::string& error) {
  // Off the board's unfinished set first (no second FinishJob), then out of the broker (no more
  // leases); the board answers GetJob and Watch until the store has the terminal state.
  std::optional<emar::v1::Job> job = board_.BeginFinish(job_id, state, error, clock_->Now());
  if (!job) return;  // already terminal, or being finished
  broker_.RemoveJob(job_id);
  // The state change must reach the store: a job that looks RUNNING after a restart would be
  // resumed (and a cancelled one re-run). Retried once, then logged loudly.
  absl::Status saved = store_->UpdateJob(*job);
  if (!saved.ok()) saved = store_->UpdateJob(*job);
  LogIfFailed(saved, absl::StrCat("saving terminal state ", emar::v1::JobState_Name(state), " of ",
                                  job_id, " (it will be resumed after a restart)"));
  const absl::Time now = clock_->Now();
  const absl::Time created = absl::FromUnixMillis(job->created_unix_ms());
  double queued_ms = std::nan("");  // never leased here (all reused, cancelled, resumed)
  {
    absl::MutexLock lock(&started_mu_);
    if (auto it = started_.find(job_id); it != started_.end()) {
      queued_ms = DurationMs(it->second - created);
      started_.erase(it);
    }
  }
  LogEvent("job_finished", {{"job", job_id},
                            {"state", emar::v1::JobState_Name(state)},
                            {"error", error},
                            {"duration_ms", DurationMs(now - created)},
                            {"queued_ms", queued_ms}});
  metrics_.Finished(state);
  board_.EndFinish(*job);
}

}  // namespace emar
