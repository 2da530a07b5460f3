#include "server/coordinator.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/event_log.h"
#include "common/file_util.h"
#include "common/job_state.h"
#include "common/status_macros.h"
#include "server/content_keys.h"
#include "server/job_planner.h"
#include "server/series_point.h"
#include "server/stored_job_report.h"

namespace emar {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

std::string NewJobId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return absl::StrFormat("job-%016x", gen());
}

void RunAll(std::vector<std::function<void()>>& fns) {
  for (auto& f : fns) f();
  fns.clear();
}

// A write to the job store that failed where the coordinator can carry on (the state is
// re-derived on recovery): never silent.
void LogIfFailed(const absl::Status& s, absl::string_view what) {
  if (!s.ok()) std::cerr << "emar-coordinator: " << what << ": " << s << std::endl;
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

// Upper bounds of the shard duration histogram, seconds.
constexpr double kShardDurationBuckets[] = {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600};

// "host-pid/3" -> "host-pid": a worker process, whatever thread leased.
std::string WorkerOf(const std::string& worker_id) {
  const size_t slash = worker_id.rfind('/');
  return slash == std::string::npos ? worker_id : worker_id.substr(0, slash);
}

// What a caller learns about a job it may not see: exactly what it would for no such job.
absl::Status NoSuchJob(const std::string& job_id) {
  return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
}

// Labels are for grouping and ordering jobs, so they stay small and printable.
absl::Status CheckLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  constexpr int kMaxLabels = 32;
  if (labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.labels: ", labels.size(), " labels, at most ", kMaxLabels, " allowed"));
  }
  for (const auto& [key, value] : labels) {
    const bool key_ok =
        !key.empty() && key.size() <= 63 && std::all_of(key.begin(), key.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                 c == '-' || c == '/';
        });
    if (!key_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.labels: key '", absl::CHexEscape(key.substr(0, 80)),
                       "' must be 1-63 characters of letters, digits, '.', '_', '-' and '/'"));
    }
    if (value.size() > 256 || std::any_of(value.begin(), value.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.labels: the value of '", key,
                       "' must be at most 256 characters without control characters"));
    }
  }
  return absl::OkStatus();
}

// Planning and finalization hold memory in proportion to the job, in large blocks malloc keeps
// for reuse in several threads' arenas; outside them the coordinator needs little, so the pages
// go back to the system (glibc's malloc_trim also releases free pages inside its heaps).
void ReturnFreedMemory() { ::malloc_trim(0); }

}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(CoordinatorOptions options,
                                                                 Clock* clock) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  RETURN_IF_ERROR(MakeDirs(options.data_dir));
  ASSIGN_OR_RETURN(auto store, JobStore::Open(absl::StrCat(options.data_dir, "/jobs.db")));
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options), clock, std::move(store)));
  RETURN_IF_ERROR(c->blobs_.Init());
  RETURN_IF_ERROR(c->Recover());
  c->ticker_ = std::thread([p = c.get()] { p->TickerLoop(); });
  for (int i = 0; i < std::max(1, c->options_.finalizer_threads); ++i) {
    c->finalizers_.emplace_back([p = c.get()] { p->FinalizerLoop(); });
  }
  for (int i = 0; i < std::max(1, c->options_.planner_threads); ++i) {
    c->planners_.emplace_back([p = c.get()] { p->PlannerLoop(); });
  }
  if (c->options_.retention != absl::InfiniteDuration()) {
    c->retention_ = std::thread([p = c.get()] { p->RetentionLoop(); });
  }
  return c;
}

Coordinator::Coordinator(CoordinatorOptions options, Clock* clock, std::unique_ptr<JobStore> store)
    : options_(std::move(options)),
      clock_(clock),
      blobs_(options_.data_dir, options_.durable_blobs),
      store_(std::move(store)),
      scheduler_(options_.scheduler) {}

Coordinator::~Coordinator() {
  Shutdown();
  if (ticker_.joinable()) ticker_.join();
  if (retention_.joinable()) retention_.join();
  for (std::thread& t : finalizers_) t.join();
  for (std::thread& t : planners_) t.join();
}

void Coordinator::Shutdown() {
  std::vector<std::function<void()>> calls;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& [id, w] : waiters_) calls.push_back([cb = std::move(w.cb)] { cb(std::nullopt); });
    waiters_.clear();
    for (auto& [h, w] : watchers_) {
      if (w.on_shutdown) calls.push_back(std::move(w.on_shutdown));
    }
    watchers_.clear();
    for (PlanItem& item : plan_queue_) {
      calls.push_back([done = std::move(item.done)] {
        done(absl::UnavailableError("the coordinator is shutting down; retry CreateJob"));
      });
    }
    plan_queue_.clear();
  }
  RunAll(calls);
}

absl::Status Coordinator::Recover() {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, store_->ActiveJobIds());
  absl::MutexLock lock(&mu_);
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
        pending.push_back(std::move(s.task));
      }
    }
    scheduler_.AddJob(id, std::move(pending), static_cast<int>(shards.size()), done, attempts);
    job.mutable_progress()->set_shards_done(done);
    job.mutable_progress()->set_examples_scored(scored);
    job.mutable_progress()->set_shards_reused(reused);
    job.mutable_progress()->set_examples_reused(examples_reused);
    active_[id] = job;
    if (done == static_cast<int>(shards.size())) finalize_queue_.push_back(id);
  }
  return absl::OkStatus();
}

bool Coordinator::HasBlobFor(const std::string& sha256, const Principal& who) {
  if (!blobs_.Has(sha256)) return false;
  if (who.admin()) return true;
  absl::StatusOr<bool> owns = store_->OwnsBlob(who.name, sha256);
  return owns.ok() && *owns;
}

std::vector<std::string> Coordinator::FindMissingBlobs(const std::vector<std::string>& sha256,
                                                       const Principal& who) {
  // Another principal's upload is "missing" for this one: it must upload (and so prove it has)
  // the content itself, and learns nothing about what others uploaded.
  std::vector<std::string> missing;
  for (const std::string& s : sha256) {
    if (!HasBlobFor(s, who)) missing.push_back(s);
  }
  return missing;
}

absl::Status Coordinator::CheckStoreQuota(int64_t size) const {
  if (options_.max_store_bytes <= 0) return absl::OkStatus();
  const int64_t used = blobs_.used_bytes();
  if (size <= options_.max_store_bytes - used) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "the store is full: it holds %.3f GB of its %.3f GB limit (--max-store-gb) and this upload "
      "needs %.3f GB more; delete finished jobs (emarctl delete JOB_ID) or wait for retention",
      used / 1e9, options_.max_store_bytes / 1e9, size / 1e9));
}

absl::Status Coordinator::RecordUpload(const std::string& sha256, const Principal& who) {
  if (who.name.empty()) return absl::OkStatus();  // no --tokens: nothing to separate
  return store_->AddBlobOwner(sha256, who.name);
}

absl::StatusOr<emar::v1::Job> Coordinator::CreateJob(const emar::v1::CreateJobRequest& request,
                                                     const Principal& who) {
  const std::string fingerprint = RequestFingerprint(request);
  // The same request id: a retry gets its job; different content under it is a mistake that
  // must not silently return another job's report.
  auto same_request = [&](const ExistingRequest& existing) -> absl::StatusOr<emar::v1::Job> {
    if (!existing.fingerprint.empty() && existing.fingerprint != fingerprint) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id '", request.request_id(), "' already created job ", existing.job_id,
          " with a different spec or different inputs; use a new request id for a new job "
          "(or `emarctl report ",
          existing.job_id, "` for that job's report)"));
    }
    return GetJob(existing.job_id, who);
  };
  if (!request.request_id().empty()) {
    ASSIGN_OR_RETURN(auto existing, store_->FindJobByRequestId(who.name, request.request_id()));
    if (existing) return same_request(*existing);
  }
  RETURN_IF_ERROR(CheckLabels(request.spec().labels()));
  if (!who.admin()) {
    int unfinished = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [id, j] : active_) unfinished += j.owner() == who.name;
    }
    if (unfinished >= options_.max_unfinished_jobs_per_principal) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "principal '", who.name, "' has ", unfinished,
          " unfinished jobs, the limit per "
          "principal (--max-jobs-per-principal); wait for some to finish or cancel them"));
    }
  }
  // Blob files are not deleted while this job is planned and stored (see gc_mu_).
  absl::ReaderMutexLock gc_lock(&gc_mu_);
  if (!who.admin()) {
    for (const auto& [path, sha] : request.input_digests()) {
      if (!HasBlobFor(sha, who)) {
        // The same answer whether the blob is absent or another principal's.
        return absl::FailedPreconditionError(
            absl::StrCat("input '", path, "': blob ", sha, " was not uploaded"));
      }
    }
  }
  ASSIGN_OR_RETURN(JobPlan plan, PlanJob(request, blobs_, options_.rows_per_shard,
                                         options_.max_input_bytes, options_.max_bootstrap_work,
                                         options_.parsed_references, options_.suite_limits));
  emar::v1::Job job;
  job.set_owner(who.name);
  job.set_job_id(NewJobId());
  job.set_name(plan.request.spec().name());
  job.set_state(emar::v1::JOB_STATE_QUEUED);
  job.set_request_id(request.request_id());
  *job.mutable_labels() = request.spec().labels();
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  job.set_created_unix_ms(now_ms);
  job.set_updated_unix_ms(now_ms);
  job.mutable_progress()->set_shards_total(static_cast<int32_t>(plan.shards.size()));
  for (StoredShard& s : plan.shards) {
    s.task.set_job_id(job.job_id());
    if (options_.score_cache) s.cache_key = ScoreCacheKey(s.task);
  }
  absl::StatusOr<std::vector<int32_t>> reused =
      store_->CreateJob(job, plan.request, plan.shards, fingerprint);
  if (absl::IsAlreadyExists(reused.status()) && !request.request_id().empty()) {
    // Lost a race with a request under the same id: answer as if it had come first.
    ASSIGN_OR_RETURN(auto existing, store_->FindJobByRequestId(who.name, request.request_id()));
    if (existing) return same_request(*existing);
  }
  RETURN_IF_ERROR(reused.status());
  const absl::flat_hash_set<int32_t> from_cache(reused->begin(), reused->end());
  int64_t examples_reused = 0;
  std::vector<emar::v1::ShardTask> tasks;
  for (StoredShard& s : plan.shards) {
    if (from_cache.contains(s.task.shard_id())) {
      examples_reused += s.rows;
    } else {
      tasks.push_back(std::move(s.task));
    }
  }
  emar::v1::JobProgress* progress = job.mutable_progress();
  progress->set_shards_done(static_cast<int32_t>(from_cache.size()));
  progress->set_shards_reused(static_cast<int32_t>(from_cache.size()));
  progress->set_examples_reused(examples_reused);
  LogEvent("job_created", {{"job", job.job_id()},
                           {"name", job.name()},
                           {"owner", job.owner()},
                           {"shards", absl::StrCat(plan.shards.size())},
                           {"shards_reused", absl::StrCat(from_cache.size())}});
  std::vector<std::function<void()>> calls;
  {
    absl::MutexLock lock(&mu_);
    shards_reused_total_ += static_cast<int64_t>(from_cache.size());
    examples_reused_total_ += examples_reused;
    scheduler_.AddJob(job.job_id(), std::move(tasks), static_cast<int>(plan.shards.size()),
                      static_cast<int>(from_cache.size()));
    active_[job.job_id()] = job;
    // Every shard reused: nothing to score, straight to the report.
    if (from_cache.size() == plan.shards.size()) finalize_queue_.push_back(job.job_id());
    DispatchLocked(&calls);
  }
  RunAll(calls);
  return job;
}

absl::StatusOr<emar::v1::Job> Coordinator::GetJob(const std::string& job_id, const Principal& who) {
  std::optional<emar::v1::Job> job;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it != active_.end()) job = it->second;
    auto f = finishing_.find(job_id);
    if (!job && f != finishing_.end()) job = f->second;
  }
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
  query.page_token = request.page_token();
  ASSIGN_OR_RETURN(JobPage page, store_->QueryJobs(query));
  emar::v1::ListJobsResponse response;
  response.set_next_page_token(page.next_page_token);
  absl::MutexLock lock(&mu_);
  for (emar::v1::Job& j : page.jobs) {
    // Live progress of unfinished jobs from memory (the store's copy lags).
    auto it = active_.find(j.job_id());
    if (it != active_.end()) j = it->second;
    auto f = finishing_.find(j.job_id());
    if (f != finishing_.end()) j = f->second;
    *response.add_jobs() = std::move(j);
  }
  return response;
}

absl::StatusOr<emar::v1::Series> Coordinator::GetSeries(const emar::v1::GetSeriesRequest& request,
                                                        const Principal& who) {
  if (request.labels().empty()) {
    return absl::InvalidArgumentError(
        "a series needs at least one label to select its jobs (e.g. --label run=exp-42)");
  }
  if (request.by().empty()) {
    return absl::InvalidArgumentError("a series needs the label to order by (e.g. --by step)");
  }
  constexpr int kMaxJobs = 10000;
  emar::v1::ListJobsRequest list;
  *list.mutable_labels() = request.labels();
  list.set_limit(1000);
  std::vector<emar::v1::Job> jobs;
  do {
    ASSIGN_OR_RETURN(emar::v1::ListJobsResponse page, ListJobs(list, who));
    for (emar::v1::Job& j : *page.mutable_jobs()) jobs.push_back(std::move(j));
    list.set_page_token(page.next_page_token());
    if (jobs.size() > kMaxJobs) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", kMaxJobs, " jobs carry these labels; narrow them (add a label)"));
    }
  } while (!list.page_token().empty());
  emar::v1::Series series;
  series.set_by(request.by());
  *series.mutable_labels() = request.labels();
  std::vector<emar::v1::SeriesPoint> points;
  std::vector<std::string> values;
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // oldest first: ties keep that order
    const emar::v1::Job& job = *it;
    auto skip = [&](const std::string& why) {
      emar::v1::SeriesSkip* s = series.add_skipped();
      s->set_job_id(job.job_id());
      s->set_reason(why);
    };
    auto value = job.labels().find(request.by());
    if (value == job.labels().end()) {
      skip(absl::StrCat("no label '", request.by(), "'"));
      continue;
    }
    if (job.state() != emar::v1::JOB_STATE_SUCCEEDED) {
      std::string state = absl::AsciiStrToLower(emar::v1::JobState_Name(job.state()).substr(10));
      skip(job.error().empty() ? state : absl::StrCat(state, ": ", job.error()));
      continue;
    }
    absl::StatusOr<emar::v1::Report> report = store_->GetReport(job.job_id());
    if (!report.ok()) {  // deleted meanwhile
      skip(std::string(report.status().message()));
      continue;
    }
    emar::v1::SeriesPoint point;
    point.set_value(value->second);
    point.set_job_id(job.job_id());
    point.set_name(job.name());
    point.set_created_unix_ms(job.created_unix_ms());
    if (!FillSeriesPoint(*report, request.dataset(), &point)) {
      skip(absl::StrCat("its report has no dataset '", request.dataset(), "'"));
      continue;
    }
    values.push_back(value->second);
    points.push_back(std::move(point));
  }
  // Numbers by value when every value is a number (each parsed once), else text.
  std::vector<double> numbers(values.size());
  bool numeric = true;
  for (size_t i = 0; i < values.size(); ++i) {
    numeric = numeric && absl::SimpleAtod(values[i], &numbers[i]) && std::isfinite(numbers[i]);
  }
  series.set_numeric(numeric);
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return numeric ? numbers[a] < numbers[b] : values[a] < values[b];
  });
  for (size_t i : order) *series.add_points() = std::move(points[i]);
  return series;
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

absl::StatusOr<uint64_t> Coordinator::Watch(const std::string& job_id, WatchCallback cb,
                                            std::function<void()> on_shutdown,
                                            const Principal& who) {
  emar::v1::Job snapshot;
  uint64_t handle;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    handle = next_handle_++;
    if (it != active_.end() && !who.Sees(it->second.owner())) return NoSuchJob(job_id);
    if (it != active_.end()) {
      snapshot = it->second;
      if (shutdown_) return absl::UnavailableError("the coordinator is shutting down");
      watchers_[handle] = Watcher{job_id, cb, std::move(on_shutdown)};
    } else if (auto f = finishing_.find(job_id); f != finishing_.end()) {
      snapshot = f->second;  // terminal: all there will be
    }
  }
  if (snapshot.job_id().empty()) {
    // Terminal (or unknown): the snapshot is all there will ever be.
    ASSIGN_OR_RETURN(snapshot, store_->GetJob(job_id));
  }
  if (!who.Sees(snapshot.owner())) return NoSuchJob(job_id);
  cb(snapshot);
  return handle;
}

void Coordinator::Unwatch(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(handle);
}

void Coordinator::NotifyLocked(const std::string& job_id, std::vector<std::function<void()>>* out) {
  auto it = active_.find(job_id);
  if (it == active_.end()) return;
  for (auto& [h, w] : watchers_) {
    if (w.job_id == job_id) out->push_back([cb = w.cb, job = it->second] { cb(job); });
  }
}

uint64_t Coordinator::LeaseAsync(const std::string& worker_id, absl::Duration wait,
                                 LeaseCallback cb) {
  std::vector<std::function<void()>> calls;
  uint64_t handle;
  {
    absl::MutexLock lock(&mu_);
    handle = next_handle_++;
    SeeWorkerLocked(worker_id, clock_->Now());
    if (shutdown_) {
      calls.push_back([cb = std::move(cb)] { cb(std::nullopt); });
    } else {
      wait = std::min(std::max(wait, absl::ZeroDuration()), options_.max_lease_wait);
      waiters_[handle] = LeaseWaiter{worker_id, clock_->Now() + wait, std::move(cb)};
      DispatchLocked(&calls);
    }
  }
  RunAll(calls);
  return handle;
}

bool Coordinator::CancelLeaseWait(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  return waiters_.erase(handle) > 0;
}

void Coordinator::DispatchLocked(std::vector<std::function<void()>>* out) {
  const absl::Time now = clock_->Now();
  while (!waiters_.empty()) {
    auto it = waiters_.begin();
    std::optional<emar::v1::ShardTask> task = scheduler_.Lease(it->second.worker_id, now);
    if (!task) return;
    auto job = active_.find(task->job_id());
    if (job != active_.end() && job->second.state() == emar::v1::JOB_STATE_QUEUED) {
      job->second.set_state(emar::v1::JOB_STATE_RUNNING);
      job->second.set_updated_unix_ms(absl::ToUnixMillis(now));
      // Written after the lock is released (group-committed with other writes). Best effort:
      // QUEUED vs RUNNING is re-derived on recovery, and the store never lets this late write
      // overwrite a terminal state.
      out->push_back([this, j = job->second] {
        LogIfFailed(store_->UpdateJob(j), "saving RUNNING state of " + j.job_id());
      });
      NotifyLocked(task->job_id(), out);
    }
    lease_started_[task->lease_id()] = LeaseStart{now, WorkerOf(it->second.worker_id)};
    out->push_back([job_id = task->job_id(), shard = task->shard_id(), lease = task->lease_id(),
                    worker = it->second.worker_id] {
      LogEvent(
          "shard_leased",
          {{"job", job_id}, {"shard", absl::StrCat(shard)}, {"lease", lease}, {"worker", worker}});
    });
    out->push_back(
        [cb = std::move(it->second.cb), t = std::move(*task)]() mutable { cb(std::move(t)); });
    waiters_.erase(it);
  }
}

absl::StatusOr<emar::v1::HeartbeatResponse> Coordinator::Heartbeat(
    const emar::v1::HeartbeatRequest& req) {
  if (req.lease_id().empty()) return absl::InvalidArgumentError("lease_id is required");
  absl::MutexLock lock(&mu_);
  const LeaseCheck check = scheduler_.Heartbeat(req.lease_id(), clock_->Now());
  if (auto started = lease_started_.find(req.lease_id()); started != lease_started_.end()) {
    worker_seen_[started->second.worker] = clock_->Now();
  }
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

absl::StatusOr<bool> Coordinator::IsStaleLeaseLocked(const emar::v1::CompleteRequest& req) {
  const LeaseCheck check = scheduler_.CheckLease(req.job_id(), req.shard_id(), req.lease_id());
  if (check == LeaseCheck::kStale) return true;
  if (check != LeaseCheck::kCurrent) {
    return LeaseError(check, req.job_id(), req.shard_id(), req.lease_id());
  }
  return false;
}

absl::StatusOr<emar::v1::CompleteResponse> Coordinator::Complete(
    const emar::v1::CompleteRequest& req) {
  if (req.job_id().empty()) return absl::InvalidArgumentError("job_id is required");
  if (req.lease_id().empty()) return absl::InvalidArgumentError("lease_id is required");
  emar::v1::CompleteResponse resp;
  std::vector<std::function<void()>> calls;
  // Only the shard's current lease may complete or fail it. A stale lease's late answer is
  // acknowledged as a duplicate and ignored; anything else is refused.
  if (req.has_failure()) {
    std::optional<SchedulerEvent> ev;
    {
      absl::MutexLock lock(&mu_);
      ASSIGN_OR_RETURN(const bool stale, IsStaleLeaseLocked(req));
      if (stale) {
        resp.set_duplicate(true);
        return resp;
      }
      ev = scheduler_.Fail(req.job_id(), req.shard_id(), req.failure().message(),
                           req.failure().input_error());
      calls.push_back([req, attempts = ev ? ev->attempts : 0] {
        LogEvent("shard_failed", {{"job", req.job_id()},
                                  {"shard", absl::StrCat(req.shard_id())},
                                  {"worker", req.worker_id()},
                                  {"attempts", absl::StrCat(attempts)},
                                  {"input_error", req.failure().input_error() ? "true" : "false"},
                                  {"error", req.failure().message()}});
      });
      if (ev && !ev->job_failed) {
        calls.push_back([this, job_id = req.job_id(), shard_id = req.shard_id(),
                         attempts = ev->attempts] { SaveAttempts(job_id, shard_id, attempts); });
        DispatchLocked(&calls);
      }
    }
    RunAll(calls);
    if (ev && ev->job_failed) FinishJob(ev->job_id, emar::v1::JOB_STATE_FAILED, ev->message);
    return resp;
  }
  if (!req.has_result()) return absl::InvalidArgumentError("complete needs a result or a failure");
  const emar::v1::ShardResult& r = req.result();
  if (r.stats_width() <= 0 || r.line_size() != r.reference_row_size() ||
      static_cast<int64_t>(r.stats_size()) !=
          static_cast<int64_t>(r.reference_row_size()) * r.stats_width()) {
    // Refused before it is stored: a malformed result must not poison the job.
    return absl::InvalidArgumentError(absl::StrCat(
        "shard ", req.shard_id(), " result is malformed: ", r.reference_row_size(), " rows, ",
        r.line_size(), " lines, ", r.stats_size(), " values of width ", r.stats_width()));
  }
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(const bool stale, IsStaleLeaseLocked(req));
    if (stale) {
      resp.set_duplicate(true);
      return resp;
    }
  }
  // Durable before acknowledged; the store itself refuses a second result for a shard. A result
  // once stored counts even if its lease expired since (results are deterministic).
  ASSIGN_OR_RETURN(bool fresh,
                   store_->RecordShardResult(req.job_id(), req.shard_id(), req.result()));
  {
    absl::MutexLock lock(&mu_);
    const CompleteVerdict v = scheduler_.Complete(req.job_id(), req.shard_id());
    resp.set_duplicate(!fresh || v != CompleteVerdict::kAccepted);
    auto job = active_.find(req.job_id());
    if (fresh) {
      calls.push_back([job_id = req.job_id(), shard = req.shard_id(), worker = req.worker_id(),
                       rows = req.result().reference_row_size()] {
        LogEvent("shard_completed", {{"job", job_id},
                                     {"shard", absl::StrCat(shard)},
                                     {"worker", worker},
                                     {"rows", absl::StrCat(rows)}});
      });
      examples_scored_total_ += req.result().reference_row_size();
      if (auto started = lease_started_.find(req.lease_id()); started != lease_started_.end()) {
        const double seconds = absl::ToDoubleSeconds(clock_->Now() - started->second.at);
        if (shard_duration_buckets_.empty()) {
          shard_duration_buckets_.assign(std::size(kShardDurationBuckets), 0);
        }
        for (size_t b = 0; b < std::size(kShardDurationBuckets); ++b) {
          if (seconds <= kShardDurationBuckets[b]) {
            ++shard_duration_buckets_[b];
            break;
          }
        }
        shard_duration_sum_ += seconds;
        ++shard_duration_count_;
        lease_started_.erase(started);
      }
    }
    if (fresh && job != active_.end()) {
      emar::v1::JobProgress* p = job->second.mutable_progress();
      p->set_shards_done(scheduler_.done_shards(req.job_id()));
      p->set_examples_scored(p->examples_scored() + req.result().reference_row_size());
      job->second.set_updated_unix_ms(absl::ToUnixMillis(clock_->Now()));
      NotifyLocked(req.job_id(), &calls);
      if (scheduler_.IsJobComplete(req.job_id())) finalize_queue_.push_back(req.job_id());
    }
  }
  RunAll(calls);
  return resp;
}

absl::Status Coordinator::CheckBlobRead(const std::string& lease_id, const std::string& sha256) {
  if (!options_.reads_need_lease) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const emar::v1::ShardTask* task = scheduler_.LeasedTask(lease_id, clock_->Now());
  if (task == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(
        "reading blob ", sha256, " needs a current lease of a shard that reads it; lease '",
        lease_id, "' is not current"));
  }
  if (task->references().sha256() != sha256 && task->outputs().sha256() != sha256) {
    return absl::PermissionDeniedError(absl::StrCat("lease '", lease_id, "' (shard ",
                                                    task->shard_id(), " of ", task->job_id(),
                                                    ") does not read blob ", sha256));
  }
  return absl::OkStatus();
}

std::pair<int, int64_t> Coordinator::RemoveBlobFiles(const std::vector<std::string>& shas) {
  int removed = 0;
  int64_t bytes = 0;
  for (const std::string& sha : shas) {
    absl::StatusOr<int64_t> freed = blobs_.Remove(sha);
    if (!freed.ok()) {
      LogIfFailed(freed.status(), "removing blob " + sha);
      continue;
    }
    removed += *freed > 0;
    bytes += *freed;
  }
  return {removed, bytes};
}

absl::StatusOr<emar::v1::DeleteJobResponse> Coordinator::DeleteJob(const std::string& job_id,
                                                                   const Principal& who) {
  ASSIGN_OR_RETURN(emar::v1::Job job, GetJob(job_id, who));
  if (!IsTerminalJobState(job.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("job '", job_id, "' is ", emar::v1::JobState_Name(job.state()),
                     "; cancel it first (emarctl cancel ", job_id, ")"));
  }
  absl::WriterMutexLock gc_lock(&gc_mu_);
  ASSIGN_OR_RETURN(std::vector<std::string> unread, store_->DeleteJob(job_id));
  const auto [removed, bytes] = RemoveBlobFiles(unread);
  emar::v1::DeleteJobResponse resp;
  resp.set_job_id(job_id);
  resp.set_blobs_removed(removed);
  resp.set_bytes_freed(bytes);
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
  absl::WriterMutexLock gc_lock(&gc_mu_);
  ASSIGN_OR_RETURN(std::vector<BlobStore::BlobInfo> blobs, blobs_.List());
  std::vector<std::string> old_blobs;
  for (const BlobStore::BlobInfo& b : blobs) {
    if (b.modified < cutoff) old_blobs.push_back(b.sha256);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> unread, store_->ForgetUnreferencedBlobs(old_blobs));
  const auto [removed, bytes] = RemoveBlobFiles(unread);
  if (deleted > 0 || removed > 0) {
    std::cerr << "emar-coordinator: retention removed " << deleted << " job(s) and " << removed
              << " unread blob(s), " << bytes << " bytes" << std::endl;
  }
  return deleted;
}

void Coordinator::RetentionLoop() {
  for (;;) {
    LogIfFailed(RunRetention().status(), "retention");
    absl::MutexLock lock(&mu_);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutdown_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.retention_interval)) return;
  }
}

void Coordinator::SeeWorkerLocked(const std::string& worker_id, absl::Time now) {
  worker_seen_[WorkerOf(worker_id)] = now;
}

std::string Coordinator::MetricsText() {
  std::string out;
  int64_t jobs[emar::v1::JobState_ARRAYSIZE] = {};
  auto counted = store_->CountJobsByState();
  if (counted.ok()) {
    for (const auto& [state, n] : *counted) {
      if (state >= 0 && state < emar::v1::JobState_ARRAYSIZE) jobs[state] = n;
    }
  }
  int64_t workers = 0, queued_shards = 0, leased_shards = 0, examples = 0, count = 0;
  int64_t shards_reused = 0, examples_reused = 0;
  double sum = 0;
  std::vector<int64_t> buckets;
  {
    absl::MutexLock lock(&mu_);
    // Unfinished jobs from memory: the store's QUEUED/RUNNING split lags (written after).
    jobs[emar::v1::JOB_STATE_QUEUED] = jobs[emar::v1::JOB_STATE_RUNNING] = 0;
    for (const auto& [id, j] : active_) ++jobs[j.state()];
    const absl::Time live_since = clock_->Now() - options_.scheduler.lease_ttl;
    for (const auto& [worker, seen] : worker_seen_) workers += seen >= live_since;
    queued_shards = static_cast<int64_t>(scheduler_.pending_count());
    leased_shards = static_cast<int64_t>(scheduler_.lease_count());
    examples = examples_scored_total_;
    shards_reused = shards_reused_total_;
    examples_reused = examples_reused_total_;
    buckets = shard_duration_buckets_;
    sum = shard_duration_sum_;
    count = shard_duration_count_;
  }
  absl::StrAppend(&out, "# HELP emar_jobs Jobs by state.\n# TYPE emar_jobs gauge\n");
  for (auto [state, name] : {std::pair{emar::v1::JOB_STATE_QUEUED, "queued"},
                             {emar::v1::JOB_STATE_RUNNING, "running"},
                             {emar::v1::JOB_STATE_SUCCEEDED, "succeeded"},
                             {emar::v1::JOB_STATE_FAILED, "failed"},
                             {emar::v1::JOB_STATE_CANCELLED, "cancelled"}}) {
    absl::StrAppend(&out, "emar_jobs{state=\"", name, "\"} ", jobs[state], "\n");
  }
  absl::StrAppend(&out,
                  "# HELP emar_shards Shards waiting for a worker (queued) or being scored "
                  "(leased): scale workers on queued.\n# TYPE emar_shards gauge\n",
                  "emar_shards{state=\"queued\"} ", queued_shards, "\n",
                  "emar_shards{state=\"leased\"} ", leased_shards, "\n");
  absl::StrAppend(&out,
                  "# HELP emar_workers Worker processes that leased or heartbeated within a "
                  "lease TTL.\n# TYPE emar_workers gauge\nemar_workers ",
                  workers, "\n");
  absl::StrAppend(&out,
                  "# HELP emar_shard_duration_seconds From lease to accepted result.\n"
                  "# TYPE emar_shard_duration_seconds histogram\n");
  int64_t cumulative = 0;
  for (size_t b = 0; b < std::size(kShardDurationBuckets); ++b) {
    cumulative += b < buckets.size() ? buckets[b] : 0;
    absl::StrAppend(&out, "emar_shard_duration_seconds_bucket{le=\"", kShardDurationBuckets[b],
                    "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, "emar_shard_duration_seconds_bucket{le=\"+Inf\"} ", count, "\n",
                  "emar_shard_duration_seconds_sum ", sum, "\n",
                  "emar_shard_duration_seconds_count ", count, "\n");
  absl::StrAppend(&out,
                  "# HELP emar_examples_scored_total Examples in accepted shard results.\n"
                  "# TYPE emar_examples_scored_total counter\nemar_examples_scored_total ",
                  examples, "\n");
  absl::StrAppend(&out,
                  "# HELP emar_shards_reused_total Shards whose statistics came from the score "
                  "cache (an earlier job scored the same bytes): not scored again.\n"
                  "# TYPE emar_shards_reused_total counter\nemar_shards_reused_total ",
                  shards_reused, "\n",
                  "# HELP emar_examples_reused_total Examples in shards reused from the score "
                  "cache.\n# TYPE emar_examples_reused_total counter\nemar_examples_reused_total ",
                  examples_reused, "\n");
  absl::StrAppend(&out,
                  "# HELP emar_blob_store_bytes Bytes of stored inputs.\n"
                  "# TYPE emar_blob_store_bytes gauge\nemar_blob_store_bytes ",
                  blobs_.used_bytes(), "\n");
  return out;
}

void Coordinator::SweepMetricsLocked(absl::Time now) {
  if (now < next_metrics_sweep_) return;
  next_metrics_sweep_ = now + absl::Minutes(1);
  // Workers gone for good, and leases that ended without a result (expired, failed, job gone),
  // are forgotten: without this both maps would grow with every worker and lease ever seen.
  const absl::Time live_since = now - options_.scheduler.lease_ttl;
  absl::erase_if(worker_seen_, [&](const auto& w) { return w.second < live_since; });
  const absl::Duration keep = 10 * options_.scheduler.lease_ttl + absl::Hours(1);
  absl::erase_if(lease_started_, [&](const auto& l) { return now - l.second.at > keep; });
}

void Coordinator::Tick() {
  std::vector<std::function<void()>> calls;
  std::vector<SchedulerEvent> failures;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    SweepMetricsLocked(now);
    for (SchedulerEvent& e : scheduler_.ExpireLeases(now)) {
      calls.push_back([job_id = e.job_id, shard = e.shard_id, attempts = e.attempts] {
        LogEvent("lease_expired", {{"job", job_id},
                                   {"shard", absl::StrCat(shard)},
                                   {"attempts", absl::StrCat(attempts)}});
      });
      if (e.job_failed) {
        // Out of the scheduler before dispatching: no worker may get a shard of a failing job.
        scheduler_.RemoveJob(e.job_id);
        failures.push_back(std::move(e));
      } else {
        calls.push_back([this, job_id = e.job_id, shard_id = e.shard_id, attempts = e.attempts] {
          SaveAttempts(job_id, shard_id, attempts);
        });
      }
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
  for (const SchedulerEvent& e : failures)
    FinishJob(e.job_id, emar::v1::JOB_STATE_FAILED, e.message);
}

void Coordinator::TickerLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shutdown_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.tick)) return;
    }
    Tick();
  }
}

void Coordinator::FinalizerLoop() {
  for (;;) {
    std::string job_id;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || !finalize_queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (shutdown_) return;
      job_id = finalize_queue_.front();
      finalize_queue_.pop_front();
      ++finalizing_;
    }
    Finalize(job_id);
    ReturnFreedMemory();  // the per-example statistics
    absl::MutexLock lock(&mu_);
    --finalizing_;
  }
}

void Coordinator::CreateJobAsync(emar::v1::CreateJobRequest request, CreateCallback done,
                                 const Principal& who) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      plan_queue_.push_back(PlanItem{std::move(request), std::move(done), who});
      return;
    }
  }
  done(absl::UnavailableError("the coordinator is shutting down; retry CreateJob"));
}

void Coordinator::PlannerLoop() {
  for (;;) {
    PlanItem item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || !plan_queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (shutdown_) return;  // Shutdown answered what was queued
      item = std::move(plan_queue_.front());
      plan_queue_.pop_front();
    }
    item.done(CreateJob(item.request, item.who));
    ReturnFreedMemory();  // the plan's references tables
  }
}

void Coordinator::WaitForIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return shutdown_ || (finalize_queue_.empty() && finalizing_ == 0);
  };
  mu_.Await(absl::Condition(&idle));
}

void Coordinator::Finalize(const std::string& job_id) {
  absl::StatusOr<emar::v1::Report> report = BuildStoredJobReport(job_id, *store_, blobs_);
  if (!report.ok()) {
    FinishJob(job_id, emar::v1::JOB_STATE_FAILED, std::string(report.status().message()));
    return;
  }
  absl::Status saved = store_->SaveReport(job_id, *report);
  if (!saved.ok()) {
    FinishJob(job_id, emar::v1::JOB_STATE_FAILED,
              absl::StrCat("saving the report: ", saved.message()));
    return;
  }
  FinishJob(job_id, emar::v1::JOB_STATE_SUCCEEDED, "");
}

void Coordinator::SaveAttempts(const std::string& job_id, int32_t shard_id, int32_t attempts) {
  LogIfFailed(store_->RecordShardAttempt(job_id, shard_id, attempts),
              absl::StrCat("saving attempts of shard ", shard_id, " of ", job_id));
}

void Coordinator::FinishJob(const std::string& job_id, emar::v1::JobState state,
                            const std::string& error) {
  std::vector<std::function<void()>> calls;
  emar::v1::Job job;
  {
    // Out of the active set and the scheduler at once (no second FinishJob, no more leases);
    // `finishing_` answers GetJob and Watch until the store has the terminal state.
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end()) return;  // already terminal, or being finished
    job = std::move(it->second);
    active_.erase(it);
    job.set_state(state);
    job.set_error(error);
    job.set_updated_unix_ms(absl::ToUnixMillis(clock_->Now()));
    scheduler_.RemoveJob(job_id);
    finishing_[job_id] = job;
  }
  // The state change must reach the store: a job that looks RUNNING after a restart would be
  // resumed (and a cancelled one re-run). Retried once, then logged loudly. Outside the lock:
  // a commit waits for the disk.
  absl::Status saved = store_->UpdateJob(job);
  if (!saved.ok()) saved = store_->UpdateJob(job);
  LogIfFailed(saved, absl::StrCat("saving terminal state ", emar::v1::JobState_Name(state), " of ",
                                  job_id, " (it will be resumed after a restart)"));
  LogEvent("job_finished",
           {{"job", job_id}, {"state", emar::v1::JobState_Name(state)}, {"error", error}});
  {
    absl::MutexLock lock(&mu_);
    finishing_.erase(job_id);
    for (auto w = watchers_.begin(); w != watchers_.end();) {
      if (w->second.job_id == job_id) {
        calls.push_back([cb = std::move(w->second.cb), job] { cb(job); });
        watchers_.erase(w++);
      } else {
        ++w;
      }
    }
  }
  RunAll(calls);
}

}  // namespace emar
