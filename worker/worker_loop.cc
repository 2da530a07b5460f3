#include "worker/worker_loop.h"

#include <unistd.h>

#include <algorithm>
#include <future>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/grpc_status.h"
#include "common/prometheus_text.h"
#include "common/status_macros.h"
#include "eval/job/field_names.h"
#include "eval/job/output_ids.h"
#include "eval/job/shard_scorer.h"
#include "eval/job/suite.h"
#include "eval/metrics/metric.h"

namespace emar {
namespace {

std::string DefaultWorkerId() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return absl::StrCat(host, "-", ::getpid());
}

// An error the worker cannot fix by retrying: the input itself is wrong.
bool IsInputError(const absl::Status& s) { return absl::IsInvalidArgument(s); }

// shard_scored (fetching and scoring times) or shard_failed.
void LogScored(const emar::v1::ShardTask& task, const absl::StatusOr<emar::v1::ShardResult>& result,
               absl::Duration fetch_time, absl::Duration took) {
  if (result.ok()) {
    LogEvent("shard_scored", {{"job", task.job_id()},
                              {"shard", absl::StrCat(task.shard_id())},
                              {"rows", result->reference_row_size()},
                              {"fetch_ms", DurationMs(fetch_time)},
                              {"score_ms", DurationMs(took - fetch_time)},
                              {"duration_ms", DurationMs(took)}});
    return;
  }
  LogEventAt(LogLevel::kWarning, "shard_failed",
             {{"job", task.job_id()},
              {"shard", absl::StrCat(task.shard_id())},
              {"error", std::string(result.status().message())},
              {"input_error", IsInputError(result.status()) ? "true" : "false"},
              {"duration_ms", DurationMs(took)}});
}

}  // namespace

WorkerLoop::WorkerLoop(std::shared_ptr<grpc::Channel> channel, WorkerOptions options)
    : stub_(emar::v1::WorkerService::NewStub(std::move(channel))),
      options_([&] {
        if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
        if (options.threads < 1) options.threads = 1;
        return options;
      }()),
      lease_state_(static_cast<size_t>(options_.threads)),
      references_(options_.reference_cache_entries) {}

bool WorkerLoop::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void WorkerLoop::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (grpc::ClientContext* ctx : waiting_) ctx->TryCancel();
}

void WorkerLoop::Run() {
  std::vector<std::thread> threads;
  threads.reserve(options_.threads);
  for (int i = 0; i < options_.threads; ++i) threads.emplace_back([this, i] { Loop(i); });
  for (auto& t : threads) t.join();
}

void WorkerLoop::Loop(int index) {
  const std::string worker_id = absl::StrCat(options_.worker_id, "/", index);
  // The first lease does not wait: the coordinator's first answer comes at once, so a new worker
  // is ready (/readyz) without waiting out a long-poll.
  bool first = true;
  // Shards leased and not yet scored, oldest first. The next one usually comes with the answer to
  // the last result (lease_next): one round trip a shard. A shard leased is scored even if Stop
  // came meanwhile (Stop lets shards in hand end).
  std::deque<Leased> ready;
  // With lease_ahead: the last result, being completed on a thread of its own while the next
  // shard is scored (CompleteForNext).
  std::future<std::optional<Leased>> completing;
  while (true) {
    if (ready.empty() && completing.valid()) TakeNext(completing.get(), worker_id, ready);
    if (ready.empty()) {
      std::optional<emar::v1::ShardTask> leased = LeaseOne(index, worker_id, /*wait=*/!first);
      if (!leased) {
        if (stopping()) break;
        continue;
      }
      first = false;
      ready.push_back({std::move(*leased), absl::Now()});
    }
    if (options_.lease_ahead && ready.size() == 1 && !completing.valid() && !stopping()) {
      // One ahead, without waiting: scored while this shard's result travels.
      if (std::optional<emar::v1::ShardTask> more = LeaseOne(index, worker_id, /*wait=*/false)) {
        ready.push_back({std::move(*more), absl::Now()});
      }
    }
    const Leased current = std::move(ready.front());
    ready.pop_front();
    if (!ready.empty() && !ready.front().outputs.valid()) {
      // The next shard's outputs come in while this one is scored.
      ready.front().outputs = std::async(std::launch::async, [this, t = ready.front().task] {
                                return Fetch(t.outputs(), t.lease_id());
                              }).share();
    }
    bool waiting_lost = false;
    std::optional<emar::v1::CompleteRequest> outcome =
        Process(current.task, ready.empty() ? nullptr : &ready.front().task, &waiting_lost,
                current.outputs);
    if (waiting_lost) {
      DropWithdrawn(ready.front().task);
      ready.pop_front();
    }
    if (completing.valid()) TakeNext(completing.get(), worker_id, ready);
    if (!outcome) continue;
    if (options_.lease_ahead) {
      completing = std::async(std::launch::async, &WorkerLoop::CompleteForNext, this,
                              std::move(*outcome), current);
    } else {
      TakeNext(CompleteForNext(std::move(*outcome), current), worker_id, ready);
    }
  }
}

std::optional<WorkerLoop::Leased> WorkerLoop::CompleteForNext(emar::v1::CompleteRequest req,
                                                              const Leased& done) {
  std::optional<emar::v1::ShardTask> next = CompleteWithRetry(
      std::move(req), absl::Milliseconds(done.task.lease_ttl_ms()), done.leased_at);
  if (!next) return std::nullopt;
  Leased leased{std::move(*next), absl::Now(), {}};
  if (options_.lease_ahead) {  // on the completing thread: its outputs come in meanwhile too
    std::promise<absl::StatusOr<std::string>> fetched;
    fetched.set_value(Fetch(leased.task.outputs(), leased.task.lease_id()));
    leased.outputs = fetched.get_future().share();
  }
  return leased;
}

void WorkerLoop::TakeNext(std::optional<Leased> next, const std::string& worker_id,
                          std::deque<Leased>& ready) {
  if (!next) return;
  LogEvent("shard_leased", {{"job", next->task.job_id()},
                            {"shard", absl::StrCat(next->task.shard_id())},
                            {"worker", worker_id},
                            {"with_complete", "true"},
                            {"wait_ms", 0}});
  ready.push_back(std::move(*next));
}

std::optional<emar::v1::ShardTask> WorkerLoop::LeaseOne(int index, const std::string& worker_id,
                                                        bool wait) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.lease_wait + absl::Seconds(5)));
  std::list<grpc::ClientContext*>::iterator self;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return std::nullopt;
    self = waiting_.insert(waiting_.end(), &ctx);
  }
  emar::v1::LeaseRequest req;
  req.set_worker_id(worker_id);
  req.set_wait_ms(wait ? absl::ToInt64Milliseconds(options_.lease_wait) : 0);
  emar::v1::LeaseResponse resp;
  const absl::Time lease_start = absl::Now();
  grpc::Status st = stub_->Lease(&ctx, req, &resp);
  const absl::Time leased_at = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    waiting_.erase(self);
  }
  LeaseState& state = lease_state_[index];
  if (!st.ok()) {
    if (stopping()) return std::nullopt;
    lease_errors_.fetch_add(1);
    if (state.failed_leases++ == 0) state.unreachable_since = lease_start;
    // Refused (a token or TLS problem) or unreachable: say so once per kind of error, so a
    // misconfigured worker is not silent, then keep retrying.
    if (index == 0 && st.error_message() != state.last_error) {
      state.last_error = st.error_message();
      Notice(LogLevel::kWarning, "lease_failed",
             absl::StrCat("emar-worker: lease failed: ", st.error_code(), ": ", state.last_error),
             {{"worker", worker_id},
              {"code", static_cast<int>(st.error_code())},
              {"error", state.last_error},
              {"backoff_ms", DurationMs(state.backoff)}});
    }
    // Coordinator down or restarting: back off and retry, up to a second between tries.
    absl::SleepFor(state.backoff);
    state.backoff = std::min(state.backoff * 2, absl::Seconds(1));
    return std::nullopt;
  }
  if (state.failed_leases > 0 && index == 0) {
    LogEvent("coordinator_reconnected",
             {{"worker", worker_id},
              {"failed_leases", state.failed_leases},
              {"duration_ms", DurationMs(leased_at - state.unreachable_since)}});
  }
  state = LeaseState();
  Contacted();
  if (!resp.has_task()) return std::nullopt;
  LogEvent("shard_leased", {{"job", resp.task().job_id()},
                            {"shard", absl::StrCat(resp.task().shard_id())},
                            {"worker", worker_id},
                            {"wait_ms", DurationMs(leased_at - lease_start)}});
  return std::move(*resp.mutable_task());
}

absl::StatusOr<std::string> WorkerLoop::Fetch(const emar::v1::BlobRange& range,
                                              const std::string& lease_id) {
  if (options_.read_blob) return options_.read_blob(range);
  grpc::ClientContext ctx;
  emar::v1::ReadBlobRequest req;
  *req.mutable_range() = range;
  req.set_lease_id(lease_id);
  auto reader = stub_->ReadBlob(&ctx, req);
  std::string out;
  if (range.length() > 0) out.reserve(static_cast<size_t>(range.length()));
  emar::v1::ReadBlobResponse chunk;
  while (reader->Read(&chunk)) out.append(chunk.chunk());
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  return out;
}

absl::StatusOr<std::shared_ptr<const ReferenceTable>> WorkerLoop::References(
    const emar::v1::ShardTask& task) {
  return references_.Get(ReferenceCache::KeyOf(task), [&]() -> absl::StatusOr<ReferenceTable> {
    ASSIGN_OR_RETURN(std::string data, Fetch(task.references(), task.lease_id()));
    if (task.ids_from_outputs()) {
      return IdsOfOutputs(task.references().display_name(), data, task.fields(),
                          task.metrics_size() > 0 ? task.metrics(0) : emar::v1::MetricSpec());
    }
    return ReferenceTable::Parse(task.references().display_name(), data,
                                 ToFieldConfig(task.fields()));
  });
}

std::string WorkerLoop::MetricsText() const {
  PrometheusText out;
  out.Family("emar_worker_shards_total", "counter", "Shards this worker finished, by outcome.");
  out.Sample("emar_worker_shards_total", {{"outcome", "scored"}},
             int64_t{shards_completed_.load() - shards_failed_.load()});
  out.Sample("emar_worker_shards_total", {{"outcome", "failed"}}, int64_t{shards_failed_.load()});
  out.Sample("emar_worker_shards_total", {{"outcome", "dropped"}}, int64_t{shards_dropped_.load()});
  out.Counter("emar_worker_examples_scored_total", "Examples in results the coordinator accepted.",
              examples_scored_.load());
  out.Gauge("emar_worker_busy", "Shards being scored now (of --threads).", busy_.load());
  out.Gauge("emar_worker_threads", "Shards this worker scores at once.", options_.threads);
  out.Counter("emar_worker_lease_errors_total",
              "Lease calls that failed (coordinator unreachable or refusing).",
              lease_errors_.load());
  return std::move(out).Take();
}

bool WorkerLoop::Withdrawn(const std::string& lease_id, absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  emar::v1::HeartbeatRequest req;
  req.set_lease_id(lease_id);
  req.set_worker_id(options_.worker_id);
  emar::v1::HeartbeatResponse resp;
  const grpc::Status st = stub_->Heartbeat(&ctx, req, &resp);
  if (st.ok()) Contacted();
  // A missed beat is retried at the next tick. keep_going=false, or a coordinator that does not
  // know the lease (it restarted, or the job ended), is final.
  return (st.ok() && !resp.keep_going()) || st.error_code() == grpc::StatusCode::NOT_FOUND ||
         st.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
}

void WorkerLoop::DropWithdrawn(const emar::v1::ShardTask& task) {
  Notice(LogLevel::kWarning, "shard_dropped",
         absl::StrCat("emar-worker: dropping shard ", task.shard_id(), " of ", task.job_id(),
                      ": the coordinator withdrew its lease before it was scored"),
         {{"job", task.job_id()}, {"shard", absl::StrCat(task.shard_id())}, {"duration_ms", 0}});
  shards_dropped_.fetch_add(1);
}

std::optional<emar::v1::CompleteRequest> WorkerLoop::Process(
    const emar::v1::ShardTask& task, const emar::v1::ShardTask* waiting, bool* waiting_lost,
    const std::shared_future<absl::StatusOr<std::string>>& fetched) {
  busy_.fetch_add(1);
  struct Idle {
    std::atomic<int64_t>* busy;
    ~Idle() { busy->fetch_sub(1); }
  } idle{&busy_};
  // Heartbeat at a third of the lease TTL while scoring; the coordinator may say stop.
  absl::Mutex hb_mu;
  bool done = false;
  std::atomic<bool> lease_lost{false};  // the job was cancelled or the shard reassigned
  bool waiting_withdrawn = false;       // the same for `waiting`; read after the join
  std::thread heartbeat([&] {
    const absl::Duration every =
        absl::Milliseconds(std::max<int64_t>(task.lease_ttl_ms() / 3, 100));
    absl::MutexLock lock(&hb_mu);
    while (!hb_mu.AwaitWithTimeout(absl::Condition(&done), every)) {
      hb_mu.Unlock();
      if (Withdrawn(task.lease_id(), every)) lease_lost = true;
      if (waiting != nullptr && !waiting_withdrawn && Withdrawn(waiting->lease_id(), every)) {
        waiting_withdrawn = true;
      }
      hb_mu.Lock();
    }
  });
  const absl::Time start = absl::Now();
  absl::Duration fetch_time;  // references (unless cached) and outputs
  auto score = [&]() -> absl::StatusOr<emar::v1::ShardResult> {
    ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MetricOfTask(task));
    ASSIGN_OR_RETURN(std::shared_ptr<const ReferenceTable> refs, References(task));
    ASSIGN_OR_RETURN(std::string outputs,
                     fetched.valid() ? fetched.get() : Fetch(task.outputs(), task.lease_id()));
    fetch_time = absl::Now() - start;
    return ScoreShard(task, outputs, *refs, *metric);
  };
  absl::StatusOr<emar::v1::ShardResult> result = score();
  const absl::Duration took = absl::Now() - start;
  {
    absl::MutexLock lock(&hb_mu);
    done = true;
  }
  heartbeat.join();
  if (waiting_lost != nullptr) *waiting_lost = waiting_withdrawn;

  if (lease_lost) {
    // Cancellation reaches the worker through its heartbeat: the result has no one to go to.
    Notice(LogLevel::kWarning, "shard_dropped",
           absl::StrCat("emar-worker: dropping shard ", task.shard_id(), " of ", task.job_id(),
                        ": the coordinator withdrew its lease"),
           {{"job", task.job_id()},
            {"shard", absl::StrCat(task.shard_id())},
            {"duration_ms", DurationMs(took)}});
    shards_dropped_.fetch_add(1);
    return std::nullopt;
  }
  emar::v1::CompleteRequest req;
  req.set_lease_id(task.lease_id());
  req.set_worker_id(options_.worker_id);
  req.set_job_id(task.job_id());
  req.set_shard_id(task.shard_id());
  LogScored(task, result, fetch_time, took);
  if (result.ok()) {
    *req.mutable_result() = std::move(*result);
  } else {
    req.mutable_failure()->set_message(std::string(result.status().message()));
    req.mutable_failure()->set_input_error(IsInputError(result.status()));
  }
  return req;
}

std::optional<emar::v1::ShardTask> WorkerLoop::CompleteWithRetry(emar::v1::CompleteRequest req,
                                                                 absl::Duration lease_ttl,
                                                                 absl::Time leased_at) {
  const absl::Time start = absl::Now();
  int attempts = 0;
  // Complete is idempotent, so retrying a call whose answer was lost is safe. A coordinator that
  // restarted meanwhile answers NOT_FOUND or FAILED_PRECONDITION (the lease is gone): that ends it.
  const absl::Duration max_backoff =
      std::clamp(lease_ttl / 3, absl::Milliseconds(100), absl::Seconds(5));
  absl::Duration backoff = absl::Milliseconds(100);
  std::string last_error;
  while (true) {
    req.set_lease_next(!stopping());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    emar::v1::CompleteResponse resp;
    grpc::Status st = stub_->Complete(&ctx, req, &resp);
    ++attempts;
    if (st.ok()) {
      Contacted();
      const absl::Time now = absl::Now();
      LogEvent("shard_completed", {{"job", req.job_id()},
                                   {"shard", absl::StrCat(req.shard_id())},
                                   {"outcome", req.has_failure() ? "failed" : "scored"},
                                   {"duplicate", resp.duplicate() ? "true" : "false"},
                                   {"attempts", attempts},
                                   {"upload_ms", DurationMs(now - start)},
                                   {"duration_ms", DurationMs(now - leased_at)}});
      shards_completed_.fetch_add(1);
      if (req.has_failure()) {
        shards_failed_.fetch_add(1);
      } else if (!resp.duplicate()) {
        examples_scored_.fetch_add(req.result().reference_row_size());
      }
      if (!resp.has_next_task()) return std::nullopt;
      return std::move(*resp.mutable_next_task());
    }
    if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
      LogEvent("shard_orphaned", {{"job", req.job_id()}, {"shard", absl::StrCat(req.shard_id())}});
      return std::nullopt;  // the job ended meanwhile (failed, cancelled): no one waits for it
    }
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
        st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      // The coordinator refused it; the lease will expire and the shard be retried.
      Notice(LogLevel::kError, "complete_refused",
             absl::StrCat("emar-worker: completing shard ", req.shard_id(), " of ", req.job_id(),
                          " refused: ", st.error_message()),
             {{"job", req.job_id()},
              {"shard", absl::StrCat(req.shard_id())},
              {"error", st.error_message()}});
      return std::nullopt;
    }
    if (st.error_message() != last_error) {
      last_error = st.error_message();
      Notice(LogLevel::kWarning, "complete_retry",
             absl::StrCat("emar-worker: completing shard ", req.shard_id(), " of ", req.job_id(),
                          ": ", last_error, "; keeping the result and retrying"),
             {{"job", req.job_id()},
              {"shard", absl::StrCat(req.shard_id())},
              {"error", last_error},
              {"backoff_ms", DurationMs(backoff)}});
    }
    if (stopping()) return std::nullopt;  // the lease expires and the shard is scored again
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, max_backoff);
  }
}

}  // namespace emar
