// Durable job state in SQLite (WAL): jobs, their shards, per-shard results and reports. Every
// method is one transaction; when a method returns OK its effect is on disk, which is what lets
// the coordinator acknowledge a result only after storing it and resume after a crash.
//
//   ASSIGN_OR_RETURN(auto store, JobStore::Open("/var/lib/emar/jobs.db"));
//   RETURN_IF_ERROR(store->CreateJob(job, request, shards));
//   ASSIGN_OR_RETURN(bool fresh, store->RecordShardResult(job_id, shard_id, result));
//
// Thread-safe: one connection guarded by a mutex (SQLite serialises writers anyway). Writes are
// group-committed: writers that arrive while a transaction is being committed are queued and the
// next of them commits all of them in one transaction (one fsync), each under its own savepoint
// so that one failing write undoes only itself. Each method still returns only once its own
// write is on disk.
#ifndef EMAR_SERVER_JOB_STORE_H_
#define EMAR_SERVER_JOB_STORE_H_

#include <functional>
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

class StmtCache;  // server/sqlite_statement.h

struct StoredShard {
  emar::v1::ShardTask task;  // without lease fields
  int64_t rows = 0;
  bool done = false;
  int32_t attempts = 0;
  // The score cache's key (ScoreCacheKey in server/content_keys.h): shards with equal keys
  // have equal results. Empty: never cached.
  std::string cache_key;
  bool reused = false;  // done by copying a cached result, not by scoring
};

// Who produced a shard's result, recorded with its score cache entry (with the job's owner).
struct CacheSource {
  std::string worker;
  std::string outputs_sha256;  // the blobs the shard read: DropCache by digest finds them
  std::string references_sha256;
  int64_t unix_ms = 0;
};

// What CreateJob found when it was given a request id already taken.
struct ExistingRequest {
  std::string job_id;
  std::string fingerprint;  // of the request that created it (empty for older stores)
};

// A page of ListJobs: newest first, only jobs carrying every label given.
struct JobQuery {
  int limit = 50;
  std::optional<std::string> owner;  // only this principal's jobs
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<emar::v1::JobState> states;  // only jobs in one of these (empty: any)
  std::string page_token;                  // from a previous JobPage
};
struct JobPage {
  std::vector<emar::v1::Job> jobs;
  std::string next_page_token;  // empty: no more
};

class JobStore {
 public:
  // `durable` false (a scratch store deleted with the process, the embedded default): commits are
  // not fsynced, a new store takes 64 KiB pages, and the write-ahead log is never checkpointed,
  // not even at close.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path,
                                                        bool durable = true);
  ~JobStore();

  // Inserts the job, its request and its shards atomically. ALREADY_EXISTS if the job id or the
  // request id is taken. `fingerprint` identifies the request's content (for request-id
  // conflicts). Shards with a cache key whose result the score cache holds are stored done, with
  // a copy of that result, in the same transaction; their shard ids are returned. A request with
  // spec.no_cache reuses nothing and drops the entries of its shards' keys (its fresh results
  // take their place).
  absl::StatusOr<std::vector<int32_t>> CreateJob(const emar::v1::Job& job,
                                                 const emar::v1::CreateJobRequest& request,
                                                 const std::vector<StoredShard>& shards,
                                                 const std::string& fingerprint = "");
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id);
  // Request ids are per owner (the job's principal): one principal's id never finds another's.
  absl::StatusOr<std::optional<ExistingRequest>> FindJobByRequestId(const std::string& owner,
                                                                    const std::string& request_id);
  absl::StatusOr<emar::v1::CreateJobRequest> GetRequest(const std::string& job_id);
  // One page of jobs matching `query` (newest first). INVALID_ARGUMENT for a page token this store
  // never issued.
  absl::StatusOr<JobPage> QueryJobs(const JobQuery& query);
  // Jobs in QUEUED or RUNNING state, oldest first (for recovery after a restart).
  absl::StatusOr<std::vector<std::string>> ActiveJobIds();
  // Writes the job's state. A non-terminal state never overwrites a terminal one (a late
  // "RUNNING" write cannot resurrect a finished job).
  absl::Status UpdateJob(const emar::v1::Job& job);

  absl::StatusOr<std::vector<StoredShard>> GetShards(const std::string& job_id);
  // Stores a shard's result and marks it done, unless it already was: returns false then, and
  // the stored result is left untouched (completion is idempotent). A fresh result with a cache
  // key enters the score cache (unless the key has an entry), recorded with the job's owner and
  // `source`.
  absl::StatusOr<bool> RecordShardResult(const std::string& job_id, int32_t shard_id,
                                         const emar::v1::ShardResult& result,
                                         const CacheSource& source = {});
  // Forgets score cache entries (server/job_store_cache.cc): with `job_id`, those of the keys
  // of that job's shards (what it stored or reused); with `digest`, the entry under that key
  // and those computed from that blob (entries older than their provenance: those of any job
  // that read it). Returns how many were dropped; stored results and reports stay.
  absl::StatusOr<int64_t> DropCacheEntries(const std::string& job_id, const std::string& digest);
  // A small write (one row of its own table), to learn whether the disk has space again.
  absl::Status ProbeWrite(int64_t unix_ms);
  // The entry under a cache key, for tests and inspection: its principal and worker.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> CacheEntrySource(
      const std::string& key);
  absl::Status RecordShardAttempt(const std::string& job_id, int32_t shard_id, int32_t attempts);
  // Results of every done shard, in shard order.
  absl::StatusOr<std::vector<std::pair<int32_t, emar::v1::ShardResult>>> GetShardResults(
      const std::string& job_id);
  // The same, one at a time as they are read: a finalization assembles each while the next is
  // read. `fn` runs under the store's lock, so it should only hand the result on; its error
  // stops the reading and is returned.
  absl::Status ForEachShardResult(
      const std::string& job_id,
      const std::function<absl::Status(int32_t shard_id, emar::v1::ShardResult result)>& fn);

  absl::Status SaveReport(const std::string& job_id, const emar::v1::Report& report);
  // NOT_FOUND for an unknown job; FAILED_PRECONDITION when it has no report (yet).
  absl::StatusOr<emar::v1::Report> GetReport(const std::string& job_id);

  // --- retention and blob ownership ---
  // Removes the job, its shards, results and report. Returns the blobs it read that no remaining
  // job reads (their ownership rows are gone too; the caller deletes the files). Score cache
  // entries that pointed at its results move to another job's copy, or are dropped.
  absl::StatusOr<std::vector<std::string>> DeleteJob(const std::string& job_id);
  // Of `shas`, those no job reads, forgetting their owners (the caller deletes the files).
  absl::StatusOr<std::vector<std::string>> ForgetUnreferencedBlobs(
      const std::vector<std::string>& shas);
  // How many jobs are stored in each state.
  absl::StatusOr<std::vector<std::pair<emar::v1::JobState, int64_t>>> CountJobsByState();
  // Finished (terminal) jobs last updated before `unix_ms`.
  absl::StatusOr<std::vector<std::string>> FinishedJobsUpdatedBefore(int64_t unix_ms);
  // Records that `owner` uploaded (and so may use) the blob.
  absl::Status AddBlobOwner(const std::string& sha256, const std::string& owner);
  absl::StatusOr<bool> OwnsBlob(const std::string& owner, const std::string& sha256);

  // --- backup (server/job_store_backup.cc) ---
  // Copies the store to a new SQLite file at `path` with SQLite's online backup API, a few
  // pages at a time between other writes: the copy is the store as of one moment, and writers
  // wait at most one step. FAILED_PRECONDITION if `path` exists.
  absl::Status CopyTo(const std::string& path);

 private:
  struct PendingWrite;

  explicit JobStore(sqlite3* db);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertJobBlobs(const std::string& job_id, const std::vector<std::string>& shas)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Of `shas`, appends to `freed` those no job reads and forgets their owners.
  absl::Status ForgetUnreadBlobs(const std::vector<std::string>& shas,
                                 std::vector<std::string>* freed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` (statements on db_, under mu_) in a group-committed transaction; returns once
  // it is committed (or failed).
  absl::Status Write(const std::function<absl::Status()>& body);
  // Commits `batch` in one transaction, setting each write's result.
  void CommitBatch(const std::vector<PendingWrite*>& batch);

  absl::Mutex mu_;  // the connection
  sqlite3* const db_;
  std::unique_ptr<StmtCache> stmts_ ABSL_PT_GUARDED_BY(mu_);

  absl::Mutex queue_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool committing_ ABSL_GUARDED_BY(queue_mu_) = false;
  int64_t batches_ ABSL_GUARDED_BY(queue_mu_) = 0;
  int64_t writes_ ABSL_GUARDED_BY(queue_mu_) = 0;

 public:
  // Writes waiting for the transaction in progress to commit.
  int QueuedWrites() {
    absl::MutexLock lock(&queue_mu_);
    return static_cast<int>(queue_.size());
  }
  // Transactions committed and writes in them since Open (writes / batches = group size).
  std::pair<int64_t, int64_t> CommitCounts() {
    absl::MutexLock lock(&queue_mu_);
    return {batches_, writes_};
  }
};

}  // namespace emar

#endif  // EMAR_SERVER_JOB_STORE_H_
