#include "server/coordinator_metrics.h"

#include <iterator>
#include <utility>

#include "common/prometheus_text.h"

namespace emar {

CoordinatorMetrics::CoordinatorMetrics(absl::Duration lease_ttl) : lease_ttl_(lease_ttl) {}

std::string CoordinatorMetrics::WorkerOf(const std::string& worker_id) {
  const size_t slash = worker_id.rfind('/');
  return slash == std::string::npos ? worker_id : worker_id.substr(0, slash);
}

void CoordinatorMetrics::SawWorker(const std::string& worker_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  worker_seen_[WorkerOf(worker_id)] = now;
}

void CoordinatorMetrics::Leased(const std::string& lease_id, const std::string& worker_id,
                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  lease_started_[lease_id] = LeaseStart{now, WorkerOf(worker_id)};
}

void CoordinatorMetrics::Heartbeat(const std::string& lease_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (auto started = lease_started_.find(lease_id); started != lease_started_.end()) {
    worker_seen_[started->second.worker] = now;
  }
}

void CoordinatorMetrics::Scored(const std::string& lease_id, int64_t rows, absl::Time now) {
  absl::MutexLock lock(&mu_);
  examples_scored_total_ += rows;
  auto started = lease_started_.find(lease_id);
  if (started == lease_started_.end()) return;
  const double seconds = absl::ToDoubleSeconds(now - started->second.at);
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

void CoordinatorMetrics::Reused(int64_t shards, int64_t examples) {
  absl::MutexLock lock(&mu_);
  shards_reused_total_ += shards;
  examples_reused_total_ += examples;
}

void CoordinatorMetrics::Finished(emar::v1::JobState state) {
  if (state < 0 || state >= emar::v1::JobState_ARRAYSIZE) return;
  absl::MutexLock lock(&mu_);
  ++jobs_finished_total_[state];
}

void CoordinatorMetrics::Sweep(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now < next_sweep_) return;
  next_sweep_ = now + absl::Minutes(1);
  // Workers gone for good, and leases that ended without a result (expired, failed, job gone),
  // are forgotten: without this both maps would grow with every worker and lease ever seen.
  const absl::Time live_since = now - lease_ttl_;
  absl::erase_if(worker_seen_, [&](const auto& w) { return w.second < live_since; });
  const absl::Duration keep = 10 * lease_ttl_ + absl::Hours(1);
  absl::erase_if(lease_started_, [&](const auto& l) { return now - l.second.at > keep; });
}

std::string CoordinatorMetrics::Text(const CoordinatorGauges& gauges, absl::Time now) const {
  int64_t workers = 0;
  PrometheusText out;
  out.Family("emar_jobs", "gauge", "Jobs by state.");
  for (auto [state, name] : {std::pair{emar::v1::JOB_STATE_QUEUED, "queued"},
                             {emar::v1::JOB_STATE_RUNNING, "running"},
                             {emar::v1::JOB_STATE_SUCCEEDED, "succeeded"},
                             {emar::v1::JOB_STATE_FAILED, "failed"},
                             {emar::v1::JOB_STATE_CANCELLED, "cancelled"}}) {
    out.Sample("emar_jobs", {{"state", name}}, gauges.jobs[state]);
  }
  out.Family("emar_shards", "gauge",
             "Shards waiting for a worker (queued) or being scored (leased): scale workers on "
             "queued.");
  out.Sample("emar_shards", {{"state", "queued"}}, gauges.queued_shards);
  out.Sample("emar_shards", {{"state", "leased"}}, gauges.leased_shards);
  absl::MutexLock lock(&mu_);
  const absl::Time live_since = now - lease_ttl_;
  for (const auto& [worker, seen] : worker_seen_) workers += seen >= live_since;
  out.Gauge("emar_workers", "Worker processes that leased or heartbeated within a lease TTL.",
            workers);
  out.Histogram("emar_shard_duration_seconds", "From lease to accepted result.",
                kShardDurationBuckets, shard_duration_buckets_, shard_duration_count_,
                shard_duration_sum_);
  out.Counter("emar_examples_scored_total", "Examples in accepted shard results.",
              examples_scored_total_);
  out.Counter("emar_shards_reused_total",
              "Shards whose statistics came from the score cache (an earlier job scored the same "
              "bytes): not scored again.",
              shards_reused_total_);
  out.Counter("emar_examples_reused_total", "Examples in shards reused from the score cache.",
              examples_reused_total_);
  out.Gauge("emar_blob_store_bytes", "Bytes of stored inputs.", gauges.blob_store_bytes);
  if (gauges.blob_store_limit_bytes > 0) {
    out.Gauge("emar_blob_store_limit_bytes", "The blob store's limit (--max-store-gb).",
              gauges.blob_store_limit_bytes);
  }
  // A counter, unlike emar_jobs (a gauge of jobs now in each state, which retention lowers):
  // alert on its increase.
  out.Family("emar_jobs_finished_total", "counter",
             "Jobs that reached a terminal state since the coordinator started, by state.");
  for (auto [state, name] : {std::pair{emar::v1::JOB_STATE_SUCCEEDED, "succeeded"},
                             {emar::v1::JOB_STATE_FAILED, "failed"},
                             {emar::v1::JOB_STATE_CANCELLED, "cancelled"}}) {
    out.Sample("emar_jobs_finished_total", {{"state", name}}, jobs_finished_total_[state]);
  }
  return std::move(out).Take();
}

}  // namespace emar
