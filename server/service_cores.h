// What the gRPC services serve, as interfaces: the Coordinator implements both, and the reactor
// tests serve fakes of them over real gRPC on loopback. No gRPC here.
#ifndef EMAR_SERVER_SERVICE_CORES_H_
#define EMAR_SERVER_SERVICE_CORES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/principal.h"

namespace emar {

// The client API (EvaluationService) but for blobs (server/blob_access.h).
class ClientCore {
 public:
  using CreateCallback = std::function<void(absl::StatusOr<emar::v1::Job>)>;
  using WatchCallback = std::function<void(const emar::v1::Job&)>;

  virtual ~ClientCore() = default;
  // Plans and stores a job off the calling thread; `done` runs once, on any thread.
  virtual void CreateJobAsync(emar::v1::CreateJobRequest request, CreateCallback done,
                              const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id, const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::ListJobsResponse> ListJobs(
      const emar::v1::ListJobsRequest& request, const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::Series> GetSeries(const emar::v1::GetSeriesRequest& request,
                                                     const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::Job> CancelJob(const std::string& job_id,
                                                  const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::Report> GetReport(const std::string& job_id,
                                                     const Principal& who) = 0;
  virtual absl::StatusOr<emar::v1::DeleteJobResponse> DeleteJob(const std::string& job_id,
                                                                const Principal& who) = 0;
  // Calls `cb` with the job now and after every change; `on_shutdown` instead of further events
  // when the core shuts down first. Returns the handle for Unwatch.
  virtual absl::StatusOr<uint64_t> Watch(const std::string& job_id, WatchCallback cb,
                                         std::function<void()> on_shutdown,
                                         const Principal& who) = 0;
  virtual void Unwatch(uint64_t handle) = 0;
  // Admin only: forgets score cache entries (see DropCacheRequest).
  virtual absl::StatusOr<emar::v1::DropCacheResponse> DropCache(
      const emar::v1::DropCacheRequest& request, const Principal& who) {
    return absl::UnimplementedError("DropCache is not served here");
  }
  // The flips of a finished job (ListFlipsRequest), in the order they are streamed.
  virtual absl::StatusOr<std::vector<emar::v1::FlipItem>> ListFlips(
      const emar::v1::ListFlipsRequest& request, const Principal& who) {
    return absl::UnimplementedError("ListFlips is not served here");
  }
};

// The worker API (WorkerService) but for blob reads (server/blob_access.h).
class WorkerCore {
 public:
  using LeaseCallback = std::function<void(std::optional<emar::v1::ShardTask>)>;

  virtual ~WorkerCore() = default;
  // Answers `cb` once: a shard, or nothing after `wait`. Returns a handle for CancelLeaseWait.
  virtual uint64_t LeaseAsync(const std::string& worker_id, absl::Duration wait,
                              LeaseCallback cb) = 0;
  // A shard pending now, leased at once, or nullopt without waiting (CompleteRequest.lease_next).
  virtual std::optional<emar::v1::ShardTask> TryLease(const std::string& worker_id) {
    return std::nullopt;
  }
  // After it returns, `cb` of that handle is never called (false: it already ran or runs).
  virtual bool CancelLeaseWait(uint64_t handle) = 0;
  virtual absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(
      const emar::v1::HeartbeatRequest& req) = 0;
  // May block until the result is durable.
  virtual absl::StatusOr<emar::v1::CompleteResponse> Complete(
      const emar::v1::CompleteRequest& req) = 0;
};

}  // namespace emar

#endif  // EMAR_SERVER_SERVICE_CORES_H_
