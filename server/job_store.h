// Durable job state in SQLite (WAL): jobs, their shards, per-shard results and reports. Every
// method is one transaction; when a method returns OK its effect is on disk, which is what lets
// the coordinator acknowledge a result only after storing it and resume after a crash.
//
//   ASSIGN_OR_RETURN(auto store, JobStore::Open("/var/lib/emar/jobs.db"));
//   RETURN_IF_ERROR(store->CreateJob(job, request, shards));
//   ASSIGN_OR_RETURN(bool fresh, store->RecordShardResult(job_id, shard_id, result));
//
// Thread-safe: one connection guarded by a mutex (SQLite serialises writers anyway).
#ifndef EMAR_SERVER_JOB_STORE_H_
#define EMAR_SERVER_JOB_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"

struct sqlite3;

namespace emar {

struct StoredShard {
  emar::v1::ShardTask task;  // without lease fields
  int64_t rows = 0;
  bool done = false;
  int32_t attempts = 0;
};

class JobStore {
 public:
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();

  // Inserts the job, its request and its shards atomically. ALREADY_EXISTS if the job id or the
  // request id is taken.
  absl::Status CreateJob(const emar::v1::Job& job, const emar::v1::CreateJobRequest& request,
                         const std::vector<StoredShard>& shards);
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id);
  absl::StatusOr<std::optional<std::string>> FindJobByRequestId(const std::string& request_id);
  absl::StatusOr<emar::v1::CreateJobRequest> GetRequest(const std::string& job_id);
  // Newest first.
  absl::StatusOr<std::vector<emar::v1::Job>> ListJobs(int limit);
  // Jobs in QUEUED or RUNNING state, oldest first (for recovery after a restart).
  absl::StatusOr<std::vector<std::string>> ActiveJobIds();
  absl::Status UpdateJob(const emar::v1::Job& job);

  absl::StatusOr<std::vector<StoredShard>> GetShards(const std::string& job_id);
  // Stores a shard's result and marks it done, unless it already was: returns false then, and
  // the stored result is left untouched (completion is idempotent).
  absl::StatusOr<bool> RecordShardResult(const std::string& job_id, int32_t shard_id,
                                         const emar::v1::ShardResult& result);
  absl::Status RecordShardAttempt(const std::string& job_id, int32_t shard_id, int32_t attempts);
  // Results of every done shard, in shard order.
  absl::StatusOr<std::vector<std::pair<int32_t, emar::v1::ShardResult>>> GetShardResults(
      const std::string& job_id);

  absl::Status SaveReport(const std::string& job_id, const emar::v1::Report& report);
  // NOT_FOUND for an unknown job; FAILED_PRECONDITION when it has no report (yet).
  absl::StatusOr<emar::v1::Report> GetReport(const std::string& job_id);

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* const db_;
};

}  // namespace emar

#endif  // EMAR_SERVER_JOB_STORE_H_
