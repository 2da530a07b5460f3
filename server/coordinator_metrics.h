// The coordinator's own counters for /metrics: live workers, shard durations (lease to accepted
// result), examples scored and reused. Gauges owned by other parts (jobs by state, queued and
// leased shards, blob bytes) are passed to Text() when the page is rendered.
//
//   CoordinatorMetrics m(lease_ttl);
//   m.Leased("lease-1", "host-12/0", now);      // from the lease broker
//   m.Scored("lease-1", /*rows=*/500, now);     // a fresh result was stored
//   std::string page = m.Text(gauges, now);
//
// Thread-safe; its lock is a leaf (nothing is called under it).
#ifndef EMAR_SERVER_COORDINATOR_METRICS_H_
#define EMAR_SERVER_COORDINATOR_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"

namespace emar {

// Values other parts of the coordinator own, read when /metrics is rendered.
struct CoordinatorGauges {
  int64_t jobs[emar::v1::JobState_ARRAYSIZE] = {};  // by JobState
  int64_t queued_shards = 0;
  int64_t leased_shards = 0;
  int64_t blob_store_bytes = 0;
  int64_t blob_store_limit_bytes = 0;  // --max-store-gb; 0: no limit (the gauge is left out)
};

class CoordinatorMetrics {
 public:
  // Workers count as live for `lease_ttl` after they last leased or heartbeated.
  explicit CoordinatorMetrics(absl::Duration lease_ttl);

  // "host-pid/3" -> "host-pid": a worker process, whatever thread leased.
  static std::string WorkerOf(const std::string& worker_id);

  // A worker asked for work.
  void SawWorker(const std::string& worker_id, absl::Time now);
  // `lease_id` went to `worker_id`: the shard's duration starts now.
  void Leased(const std::string& lease_id, const std::string& worker_id, absl::Time now);
  // The worker holding `lease_id` heartbeated.
  void Heartbeat(const std::string& lease_id, absl::Time now);
  // A fresh result of `rows` examples was stored for `lease_id`.
  void Scored(const std::string& lease_id, int64_t rows, absl::Time now);
  // A new job took `shards` shards holding `examples` examples from the score cache.
  void Reused(int64_t shards, int64_t examples);
  // A job reached a terminal state (succeeded, failed, cancelled) in this process.
  void Finished(emar::v1::JobState state);
  // At most once a minute: forgets departed workers and leases that never finished.
  void Sweep(absl::Time now);

  // The Prometheus text (docs/monitoring.md), the gauges as of now.
  std::string Text(const CoordinatorGauges& gauges, absl::Time now) const;

  // Upper bounds of the shard duration histogram, seconds.
  static constexpr double kShardDurationBuckets[] = {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600};

 private:
  struct LeaseStart {
    absl::Time at;
    std::string worker;
  };

  // --- constant after construction ---
  const absl::Duration lease_ttl_;

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> worker_seen_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, LeaseStart> lease_started_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> shard_duration_buckets_ ABSL_GUARDED_BY(mu_);  // cumulative at render
  double shard_duration_sum_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shard_duration_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t examples_scored_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shards_reused_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t examples_reused_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t jobs_finished_total_[emar::v1::JobState_ARRAYSIZE] ABSL_GUARDED_BY(mu_) = {};
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace emar

#endif  // EMAR_SERVER_COORDINATOR_METRICS_H_
