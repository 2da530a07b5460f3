// The worker's RPC loop: lease a shard (long-poll), fetch the blob ranges it names (references
// cached across shards), score it with ScoreShard, heartbeat meanwhile, complete it. Any number
// of loops run in one process; the embedded default runs them as threads beside the coordinator.
//
//   WorkerLoop worker(grpc::CreateChannel("127.0.0.1:50051", creds), {.threads = 2});
//   std::thread t([&] { worker.Run(); });  ...  worker.Stop();  t.join();
//
// Run() and Stop() may be called from different threads; Stop() lets shards in progress finish.
#ifndef EMAR_WORKER_WORKER_LOOP_H_
#define EMAR_WORKER_WORKER_LOOP_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.grpc.pb.h"
#include "eval/input/reference_table.h"
#include "worker/reference_cache.h"

namespace emar {

struct WorkerOptions {
  std::string worker_id;  // default: hostname-pid
  int threads = 1;
  absl::Duration lease_wait = absl::Seconds(10);
  int reference_cache_entries = 4;
  // Each loop keeps one leased shard ahead of the one it scores, and completes a result on a
  // thread of its own while it scores the next, so the coordinator's commit never idles the
  // loop's core. For a process whose threads are the only workers (the embedded mode): among
  // several workers the shard held ahead could have gone to an idle one.
  bool lease_ahead = false;
  // Reads a blob range (a shard's outputs, a references file) in this process instead of
  // through a ReadBlob call: for workers beside their coordinator (the embedded mode), whose
  // blob store is at hand. A ReadBlob streams the bytes in chunks through the channel, copying
  // them three times more. Unset: through the coordinator.
  std::function<absl::StatusOr<std::string>(const emar::v1::BlobRange& range)> read_blob;
};

class WorkerLoop {
 public:
  WorkerLoop(std::shared_ptr<grpc::Channel> channel, WorkerOptions options);

  // Runs options.threads lease loops until Stop(). Returns once all have stopped.
  void Run();
  void Stop();
  int64_t shards_completed() const { return shards_completed_.load(); }
  int64_t busy() const { return busy_.load(); }  // shards being scored now
  // A references table parsed elsewhere (the embedded coordinator's planner), for shards whose
  // references are blob `sha256` read with `fields`: they need not fetch and parse it again.
  void AddReferences(const std::string& sha256, const emar::v1::FieldNames& fields,
                     std::shared_ptr<const ReferenceTable> table) {
    references_.Put(ReferenceCache::KeyOf(sha256, fields), std::move(table));
  }
  // Drops the references tables kept for later shards (the embedded mode, once a job is scored).
  // They are freed when the result goes (ReferenceCache::Clear).
  std::shared_ptr<void> DropReferences() { return references_.Clear(); }
  // The worker's own metrics in the Prometheus text format: shards scored, failed and dropped,
  // examples scored, shards being scored now, failed lease calls.
  std::string MetricsText() const;
  // When the coordinator last answered a lease, heartbeat or result (InfinitePast: never). The
  // readiness probe: a worker that cannot reach its coordinator is not ready.
  absl::Time last_contact() const {
    const int64_t ns = last_contact_ns_.load();
    return ns == kNever ? absl::InfinitePast() : absl::FromUnixNanos(ns);
  }

 private:
  // A shard leased and not yet scored, and when it was leased.
  struct Leased {
    emar::v1::ShardTask task;
    absl::Time leased_at;
    // Its outputs, fetched while the shard before it is scored (lease_ahead); invalid: not yet.
    std::shared_future<absl::StatusOr<std::string>> outputs;
  };
  void Loop(int index);
  // One heartbeat for `lease_id`: whether the coordinator withdrew the lease (the job was
  // cancelled or ended, or the shard reassigned).
  bool Withdrawn(const std::string& lease_id, absl::Duration timeout);
  // Logs and counts a shard leased ahead whose lease was withdrawn before it was scored.
  void DropWithdrawn(const emar::v1::ShardTask& task);
  // Queues the shard a Complete's answer carried (lease_next), if any.
  void TakeNext(std::optional<Leased> next, const std::string& worker_id,
                std::deque<Leased>& ready);
  // Completes the result of shard `done` (CompleteWithRetry) and returns the shard the answer
  // leased, if any; with lease_ahead (then on a thread of its own) with its outputs fetched.
  std::optional<Leased> CompleteForNext(emar::v1::CompleteRequest req, const Leased& done);
  // Scores a leased shard, heartbeating meanwhile; returns the outcome to report (none when the
  // lease was withdrawn). `waiting`: a shard leased ahead, not yet scored, whose lease the
  // heartbeat renews too; `*waiting_lost` is set when the coordinator withdrew it.
  // `outputs`, when valid, brings the shard's outputs (fetched ahead).
  std::optional<emar::v1::CompleteRequest> Process(
      const emar::v1::ShardTask& task, const emar::v1::ShardTask* waiting = nullptr,
      bool* waiting_lost = nullptr,
      const std::shared_future<absl::StatusOr<std::string>>& outputs = {});
  // `lease_id`: the lease of the shard the range belongs to (the coordinator may require it).
  absl::StatusOr<std::string> Fetch(const emar::v1::BlobRange& range, const std::string& lease_id);
  absl::StatusOr<std::shared_ptr<const ReferenceTable>> References(const emar::v1::ShardTask& task);
  // Sends a result until the coordinator takes or refuses it: while it is unreachable or out of
  // disk (UNAVAILABLE) the result is kept and resent, with backoff up to a third of the lease's
  // TTL (each try renews the lease), until the worker stops.
  // Asks for the next shard in the same call (lease_next, unless stopping) and returns it when the
  // coordinator leased one. `leased_at`: when the shard was leased (shard_completed logs the time
  // since).
  std::optional<emar::v1::ShardTask> CompleteWithRetry(emar::v1::CompleteRequest req,
                                                       absl::Duration lease_ttl,
                                                       absl::Time leased_at);
  // One Lease call of loop `index` (a long-poll if `wait`): the shard, or nullopt when none came,
  // the call failed (after a backoff) or the worker stops.
  std::optional<emar::v1::ShardTask> LeaseOne(int index, const std::string& worker_id, bool wait);
  bool stopping();

  std::unique_ptr<emar::v1::WorkerService::Stub> stub_;
  const WorkerOptions options_;
  std::atomic<int64_t> shards_completed_{0};
  std::atomic<int64_t> shards_failed_{0};   // reported as failures (bad input, scoring error)
  std::atomic<int64_t> shards_dropped_{0};  // lease withdrawn while scoring
  std::atomic<int64_t> examples_scored_{0};
  std::atomic<int64_t> busy_{0};  // shards being scored now
  std::atomic<int64_t> lease_errors_{0};
  // Unix nanoseconds; kNever until the first answer (ToUnixNanos(InfinitePast()) saturates to
  // it, and FromUnixNanos would read it back as the year 1677).
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> last_contact_ns_{kNever};
  void Contacted() { last_contact_ns_.store(absl::ToUnixNanos(absl::Now())); }

  // Each lease loop's retry state, touched only by its own thread.
  struct LeaseState {
    absl::Duration backoff = absl::Milliseconds(50);
    std::string last_error;
    absl::Time unreachable_since = absl::InfinitePast();  // first failed lease of an outage
    int failed_leases = 0;
  };
  std::vector<LeaseState> lease_state_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::list<grpc::ClientContext*> waiting_ ABSL_GUARDED_BY(mu_);  // long-polls to cancel on Stop
  ReferenceCache references_;
};

}  // namespace emar

#endif  // EMAR_WORKER_WORKER_LOOP_H_
