#include "server/job_store.h"

#include <sqlite3.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "server/job_store_schema.h"
#include "server/sqlite_statement.h"

namespace emar {
namespace {

// The key that makes CreateJob idempotent, per principal: one principal's request id never
// finds another's job. Principal names cannot contain '/' (server/auth.h).
std::string RequestKey(const std::string& owner, const std::string& request_id) {
  return owner.empty() ? request_id : absl::StrCat(owner, "/", request_id);
}

template <typename Msg>
absl::StatusOr<Msg> ParseBlob(const std::string& bytes, const char* what) {
  Msg m;
  if (!m.ParseFromString(bytes)) return absl::DataLossError(absl::StrCat("corrupt stored ", what));
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path, bool durable) {
  ASSIGN_OR_RETURN(
      SqliteDb opened,
      OpenSqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                 "job store"));
  sqlite3* db = opened.release();  // the JobStore owns it from here
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<JobStore> store(new JobStore(db));
  {
    absl::MutexLock lock(&store->mu_);
    // WAL + synchronous=FULL: a committed transaction survives a crash of the process or machine.
    // A scratch store (the embedded default, deleted with the process, which a crash loses whole
    // anyway) syncs nothing, takes 64 KiB pages (a 50,000-row result is ~1 MB: 16 writes instead
    // of 500) and leaves its log uncheckpointed (no second copy of every page). The page size is
    // set before the first table, so only a new store takes it.
    if (!durable) RETURN_IF_ERROR(store->Exec("PRAGMA page_size=65536;"));
    RETURN_IF_ERROR(store->Exec(durable ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; "
                                          "PRAGMA wal_autocheckpoint=0;"));
    // Nor at close: the whole log would be copied into the file just before both are deleted.
    if (!durable) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    // The tables, or what an older store lacks of them (server/job_store_schema.h).
    RETURN_IF_ERROR(MigrateJobStore(db, path));
  }
  return store;
}

JobStore::JobStore(sqlite3* db) : db_(db), stmts_(std::make_unique<StmtCache>()) {}

JobStore::~JobStore() {
  stmts_.reset();  // finalized before the connection closes
  sqlite3_close(db_);
}

absl::Status JobStore::Exec(const char* sql) {
  char* err = nullptr;
  if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return SqliteError(db_, rc, msg);
  }
  return absl::OkStatus();
}

struct JobStore::PendingWrite {
  const std::function<absl::Status()>* body;
  absl::Status result;
  bool done = false;
};

absl::Status JobStore::Write(const std::function<absl::Status()>& body) {
  PendingWrite w{&body, absl::OkStatus(), false};
  std::vector<PendingWrite*> batch;
  {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(&w);
    // Either a committing writer takes this write into its next batch, or this writer commits.
    auto my_turn = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) { return w.done || !committing_; };
    queue_mu_.Await(absl::Condition(&my_turn));
    if (w.done) return w.result;
    committing_ = true;
    batch.swap(queue_);  // includes w
  }
  CommitBatch(batch);
  absl::MutexLock lock(&queue_mu_);
  for (PendingWrite* p : batch) p->done = true;
  committing_ = false;
  ++batches_;
  writes_ += static_cast<int64_t>(batch.size());
  return w.result;
}

void JobStore::CommitBatch(const std::vector<PendingWrite*>& batch) {
  absl::MutexLock lock(&mu_);
  absl::Status begun = Exec("BEGIN IMMEDIATE");
  if (!begun.ok()) {
    for (PendingWrite* p : batch) p->result = begun;
    return;
  }
  for (PendingWrite* p : batch) {
    // A savepoint per write: a failing write (say, a duplicate request id) undoes only itself.
    absl::Status s = Stmt(db_, "SAVEPOINT w", *stmts_).Run();
    if (s.ok()) s = (*p->body)();
    if (!s.ok()) Stmt(db_, "ROLLBACK TO w", *stmts_).Run().IgnoreError();
    Stmt(db_, "RELEASE w", *stmts_).Run().IgnoreError();
    p->result = s;
  }
  if (absl::Status committed = Exec("COMMIT"); !committed.ok()) {
    Exec("ROLLBACK").IgnoreError();
    for (PendingWrite* p : batch) {
      if (p->result.ok()) p->result = committed;
    }
  }
}

absl::StatusOr<std::vector<int32_t>> JobStore::CreateJob(const emar::v1::Job& job,
                                                         const emar::v1::CreateJobRequest& request,
                                                         const std::vector<StoredShard>& shards,
                                                         const std::string& fingerprint) {
  std::vector<int32_t> reused;
  RETURN_IF_ERROR(Write([&]() -> absl::Status {
    reused.clear();
    Stmt ins(db_,
             "INSERT INTO jobs(job_id, request_id, created_ms, state, job, request, owner, "
             "request_sha256) VALUES(?,?,?,?,?,?,?,?)");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, job.job_id());
    if (job.request_id().empty())
      ins.BindNull(2);
    else
      ins.Bind(2, RequestKey(job.owner(), job.request_id()));
    ins.Bind(3, job.created_unix_ms()).Bind(4, static_cast<int64_t>(job.state()));
    ins.BindBlob(5, job.SerializeAsString()).BindBlob(6, request.SerializeAsString());
    ins.Bind(7, job.owner()).Bind(8, fingerprint);
    RETURN_IF_ERROR(ins.Run());
    for (const auto& [key, value] : job.labels()) {
      Stmt l(db_, "INSERT INTO job_labels(job_id, key, value) VALUES(?,?,?)");
      RETURN_IF_ERROR(l.status());
      l.Bind(1, job.job_id()).Bind(2, key).Bind(3, value);
      RETURN_IF_ERROR(l.Run());
    }
    const bool no_cache = request.spec().no_cache();
    for (const StoredShard& s : shards) {
      const int64_t shard_id = s.task.shard_id();
      bool done = s.done;
      bool from_cache = false;
      if (no_cache && !s.cache_key.empty()) {
        Stmt drop(db_, "DELETE FROM score_cache WHERE key = ?");
        RETURN_IF_ERROR(drop.status());
        drop.Bind(1, s.cache_key);
        RETURN_IF_ERROR(drop.Run());
      } else if (!done && !s.cache_key.empty()) {
        // A result with the same key, copied row to row (no bytes through this process).
        Stmt copy(db_,
                  "INSERT INTO shard_results(job_id, shard_id, result) "
                  "SELECT ?, ?, r.result FROM score_cache c JOIN shard_results r "
                  "ON r.job_id = c.job_id AND r.shard_id = c.shard_id WHERE c.key = ?");
        RETURN_IF_ERROR(copy.status());
        copy.Bind(1, job.job_id()).Bind(2, shard_id).Bind(3, s.cache_key);
        RETURN_IF_ERROR(copy.Run());
        from_cache = done = sqlite3_changes(db_) > 0;
      }
      Stmt sh(db_,
              "INSERT INTO shards(job_id, shard_id, task, rows, done, attempts, cache_key, reused) "
              "VALUES(?,?,?,?,?,?,?,?)");
      RETURN_IF_ERROR(sh.status());
      sh.Bind(1, job.job_id()).Bind(2, shard_id);
      sh.BindBlob(3, s.task.SerializeAsString())
          .Bind(4, s.rows)
          .Bind(5, int64_t{done})
          .Bind(6, int64_t{s.attempts});
      if (s.cache_key.empty())
        sh.BindNull(7);
      else
        sh.Bind(7, s.cache_key);
      sh.Bind(8, int64_t{from_cache});
      RETURN_IF_ERROR(sh.Run());
      if (from_cache) reused.push_back(static_cast<int32_t>(shard_id));
    }
    std::vector<emar::v1::ShardTask> tasks;
    tasks.reserve(shards.size());
    for (const StoredShard& s : shards) tasks.push_back(s.task);
    return InsertJobBlobs(job.job_id(), BlobsOfJob(request, tasks));
  }));
  return reused;
}

absl::Status JobStore::InsertJobBlobs(const std::string& job_id,
                                      const std::vector<std::string>& shas) {
  return InsertJobBlobRows(db_, job_id, shas);
}

absl::StatusOr<emar::v1::Job> JobStore::GetJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT job FROM jobs WHERE job_id = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, job_id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
  if (rc != SQLITE_ROW) return q.StepError();
  return ParseBlob<emar::v1::Job>(q.Blob(0), "job");
}

absl::StatusOr<std::optional<ExistingRequest>> JobStore::FindJobByRequestId(
    const std::string& owner, const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT job_id, request_sha256 FROM jobs WHERE request_id = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, RequestKey(owner, request_id));
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<ExistingRequest>();
  if (rc != SQLITE_ROW) return q.StepError();
  return std::optional<ExistingRequest>(ExistingRequest{q.Blob(0), q.Blob(1)});
}

absl::StatusOr<emar::v1::CreateJobRequest> JobStore::GetRequest(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT request FROM jobs WHERE job_id = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, job_id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
  if (rc != SQLITE_ROW) return q.StepError();
  return ParseBlob<emar::v1::CreateJobRequest>(q.Blob(0), "job request");
}

absl::StatusOr<JobPage> JobStore::QueryJobs(const JobQuery& query) {
  // The page token is the position of the page's last job in the order (created_ms, rowid),
  // both descending: "<created_ms>.<rowid>". Jobs created since do not shift later pages.
  std::optional<std::pair<int64_t, int64_t>> after;
  if (!query.page_token.empty()) {
    std::vector<std::string> parts = absl::StrSplit(query.page_token, '.');
    int64_t ms = 0, rowid = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &ms) ||
        !absl::SimpleAtoi(parts[1], &rowid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token '", query.page_token,
                       "' is not one this server issued (pass a previous "
                       "response's next_page_token unchanged)"));
    }
    after.emplace(ms, rowid);
  }
  std::string sql = "SELECT job, created_ms, rowid FROM jobs WHERE 1";
  if (query.owner) sql += " AND owner = ?";
  if (after) sql += " AND (created_ms, rowid) < (?, ?)";
  for (size_t i = 0; i < query.labels.size(); ++i) {
    sql += " AND job_id IN (SELECT job_id FROM job_labels WHERE key = ? AND value = ?)";
  }
  if (!query.states.empty()) {
    sql += " AND state IN (?";
    for (size_t i = 1; i < query.states.size(); ++i) sql += ", ?";
    sql += ")";
  }
  sql += " ORDER BY created_ms DESC, rowid DESC LIMIT ?";
  const int limit = std::max(query.limit, 1);
  absl::MutexLock lock(&mu_);
  Stmt q(db_, sql.c_str());
  RETURN_IF_ERROR(q.status());
  int i = 1;
  if (query.owner) q.Bind(i++, *query.owner);
  if (after) {
    q.Bind(i, after->first).Bind(i + 1, after->second);
    i += 2;
  }
  for (const auto& [key, value] : query.labels) {
    q.Bind(i, key).Bind(i + 1, value);
    i += 2;
  }
  for (emar::v1::JobState state : query.states) q.Bind(i++, static_cast<int64_t>(state));
  q.Bind(i++, static_cast<int64_t>(limit) + 1);  // one more: is there a next page?
  JobPage page;
  int64_t last_ms = 0, last_rowid = 0;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    if (static_cast<int>(page.jobs.size()) == limit) {
      page.next_page_token = absl::StrCat(last_ms, ".", last_rowid);
      break;
    }
    ASSIGN_OR_RETURN(auto job, ParseBlob<emar::v1::Job>(q.Blob(0), "job"));
    page.jobs.push_back(std::move(job));
    last_ms = q.Int(1);
    last_rowid = q.Int(2);
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return q.StepError();
  return page;
}

absl::StatusOr<std::vector<std::string>> JobStore::ActiveJobIds() {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT job_id FROM jobs WHERE state IN (?, ?) ORDER BY created_ms, rowid");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, static_cast<int64_t>(emar::v1::JOB_STATE_QUEUED));
  q.Bind(2, static_cast<int64_t>(emar::v1::JOB_STATE_RUNNING));
  std::vector<std::string> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.Blob(0));
  if (rc != SQLITE_DONE) return q.StepError();
  return out;
}

absl::Status JobStore::UpdateJob(const emar::v1::Job& job) {
  const bool terminal =
      job.state() != emar::v1::JOB_STATE_QUEUED && job.state() != emar::v1::JOB_STATE_RUNNING;
  return Write([&]() -> absl::Status {
    Stmt u(db_, terminal
                    ? "UPDATE jobs SET state = ?, job = ? WHERE job_id = ?"
                    : "UPDATE jobs SET state = ?, job = ? WHERE job_id = ? AND state IN (?, ?)");
    RETURN_IF_ERROR(u.status());
    u.Bind(1, static_cast<int64_t>(job.state()))
        .BindBlob(2, job.SerializeAsString())
        .Bind(3, job.job_id());
    if (!terminal) {
      u.Bind(4, static_cast<int64_t>(emar::v1::JOB_STATE_QUEUED))
          .Bind(5, static_cast<int64_t>(emar::v1::JOB_STATE_RUNNING));
    }
    return u.Run();
  });
}

absl::StatusOr<std::vector<StoredShard>> JobStore::GetShards(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_,
         "SELECT task, rows, done, attempts, cache_key, reused FROM shards WHERE job_id = ? "
         "ORDER BY shard_id");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, job_id);
  std::vector<StoredShard> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    StoredShard s;
    ASSIGN_OR_RETURN(s.task, ParseBlob<emar::v1::ShardTask>(q.Blob(0), "shard"));
    s.rows = q.Int(1);
    s.done = q.Int(2) != 0;
    s.attempts = static_cast<int32_t>(q.Int(3));
    if (!q.IsNull(4)) s.cache_key = q.Blob(4);
    s.reused = q.Int(5) != 0;
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE) return q.StepError();
  return out;
}

absl::StatusOr<bool> JobStore::RecordShardResult(const std::string& job_id, int32_t shard_id,
                                                 const emar::v1::ShardResult& result,
                                                 const CacheSource& source) {
  bool fresh = false;
  const std::string serialized = result.SerializeAsString();  // outside the connection's lock
  RETURN_IF_ERROR(Write([&]() -> absl::Status {
    Stmt mark(db_, "UPDATE shards SET done = 1 WHERE job_id = ? AND shard_id = ? AND done = 0",
              *stmts_);
    RETURN_IF_ERROR(mark.status());
    mark.Bind(1, job_id).Bind(2, static_cast<int64_t>(shard_id));
    RETURN_IF_ERROR(mark.Run());
    if (sqlite3_changes(db_) == 0) return absl::OkStatus();
    Stmt ins(db_, "INSERT INTO shard_results(job_id, shard_id, result) VALUES(?,?,?)", *stmts_);
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, job_id).Bind(2, static_cast<int64_t>(shard_id)).BindBlob(3, serialized);
    RETURN_IF_ERROR(ins.Run());
    fresh = true;
    // The first result for a key stays the cache's (equal keys, equal results).
    Stmt cache(db_,
               "INSERT OR IGNORE INTO score_cache(key, job_id, shard_id, principal, worker, "
               "outputs_sha256, references_sha256, created_ms) SELECT s.cache_key, s.job_id, "
               "s.shard_id, j.owner, ?, ?, ?, ? FROM shards s JOIN jobs j ON j.job_id = s.job_id "
               "WHERE s.job_id = ? AND s.shard_id = ? AND s.cache_key IS NOT NULL",
               *stmts_);
    RETURN_IF_ERROR(cache.status());
    cache.Bind(1, source.worker)
        .Bind(2, source.outputs_sha256)
        .Bind(3, source.references_sha256)
        .Bind(4, source.unix_ms);
    cache.Bind(5, job_id).Bind(6, static_cast<int64_t>(shard_id));
    return cache.Run();
  }));
  return fresh;
}

absl::Status JobStore::RecordShardAttempt(const std::string& job_id, int32_t shard_id,
                                          int32_t attempts) {
  return Write([&]() -> absl::Status {
    Stmt u(db_, "UPDATE shards SET attempts = ? WHERE job_id = ? AND shard_id = ?");
    RETURN_IF_ERROR(u.status());
    u.Bind(1, static_cast<int64_t>(attempts))
        .Bind(2, job_id)
        .Bind(3, static_cast<int64_t>(shard_id));
    return u.Run();
  });
}

absl::StatusOr<std::vector<std::pair<int32_t, emar::v1::ShardResult>>> JobStore::GetShardResults(
    const std::string& job_id) {
  std::vector<std::pair<int32_t, emar::v1::ShardResult>> out;
  RETURN_IF_ERROR(ForEachShardResult(job_id, [&](int32_t shard_id, emar::v1::ShardResult r) {
    out.emplace_back(shard_id, std::move(r));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status JobStore::ForEachShardResult(
    const std::string& job_id,
    const std::function<absl::Status(int32_t shard_id, emar::v1::ShardResult result)>& fn) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT shard_id, result FROM shard_results WHERE job_id = ? ORDER BY shard_id");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, job_id);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ASSIGN_OR_RETURN(auto r, ParseBlob<emar::v1::ShardResult>(q.Blob(1), "shard result"));
    RETURN_IF_ERROR(fn(static_cast<int32_t>(q.Int(0)), std::move(r)));
  }
  if (rc != SQLITE_DONE) return q.StepError();
  return absl::OkStatus();
}

absl::Status JobStore::SaveReport(const std::string& job_id, const emar::v1::Report& report) {
  const std::string serialized = report.SerializeAsString();
  return Write([&]() -> absl::Status {
    Stmt u(db_, "UPDATE jobs SET report = ? WHERE job_id = ?");
    RETURN_IF_ERROR(u.status());
    u.BindBlob(1, serialized).Bind(2, job_id);
    return u.Run();
  });
}

absl::StatusOr<emar::v1::Report> JobStore::GetReport(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT report FROM jobs WHERE job_id = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, job_id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
  if (rc != SQLITE_ROW) return q.StepError();
  if (q.IsNull(0))
    return absl::FailedPreconditionError(absl::StrCat("job '", job_id, "' has no report yet"));
  return ParseBlob<emar::v1::Report>(q.Blob(0), "report");
}

absl::StatusOr<std::vector<std::string>> JobStore::DeleteJob(const std::string& job_id) {
  std::vector<std::string> freed;
  RETURN_IF_ERROR(Write([&]() -> absl::Status {
    freed.clear();
    std::vector<std::string> shas;
    {
      Stmt q(db_, "SELECT sha256 FROM job_blobs WHERE job_id = ?");
      RETURN_IF_ERROR(q.status());
      q.Bind(1, job_id);
      while (q.Step() == SQLITE_ROW) shas.push_back(q.Blob(0));
    }
    for (const char* sql :
         {// Cache entries naming this job's results move to another job's copy, if any.
          "WITH other AS (SELECT s.cache_key AS key, s.job_id, s.shard_id FROM shards s JOIN "
          "shard_results r ON r.job_id = s.job_id AND r.shard_id = s.shard_id WHERE "
          "s.job_id != ?1 AND s.cache_key IN (SELECT key FROM score_cache WHERE job_id = ?1)) "
          "UPDATE score_cache SET (job_id, shard_id) = (SELECT job_id, shard_id FROM other "
          "WHERE other.key = score_cache.key LIMIT 1) WHERE job_id = ?1 AND key IN (SELECT "
          "key FROM other)",
          "DELETE FROM score_cache WHERE job_id = ?1",
          "DELETE FROM shard_results WHERE job_id = ?1", "DELETE FROM shards WHERE job_id = ?1",
          "DELETE FROM job_blobs WHERE job_id = ?1", "DELETE FROM job_labels WHERE job_id = ?1",
          "DELETE FROM jobs WHERE job_id = ?1"}) {
      Stmt d(db_, sql);
      RETURN_IF_ERROR(d.status());
      d.Bind(1, job_id);
      RETURN_IF_ERROR(d.Run());
    }
    return ForgetUnreadBlobs(shas, &freed);  // those another job reads stay
  }));
  return freed;
}

absl::Status JobStore::ForgetUnreadBlobs(const std::vector<std::string>& shas,
                                         std::vector<std::string>* freed) {
  for (const std::string& sha : shas) {
    Stmt q(db_, "SELECT 1 FROM job_blobs WHERE sha256 = ? LIMIT 1");
    RETURN_IF_ERROR(q.status());
    q.Bind(1, sha);
    if (q.Step() == SQLITE_ROW) continue;
    Stmt d(db_, "DELETE FROM blob_owners WHERE sha256 = ?");
    RETURN_IF_ERROR(d.status());
    d.Bind(1, sha);
    RETURN_IF_ERROR(d.Run());
    freed->push_back(sha);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> JobStore::ForgetUnreferencedBlobs(
    const std::vector<std::string>& shas) {
  std::vector<std::string> freed;
  RETURN_IF_ERROR(Write([&]() -> absl::Status {
    freed.clear();
    return ForgetUnreadBlobs(shas, &freed);
  }));
  return freed;
}

absl::StatusOr<std::vector<std::string>> JobStore::FinishedJobsUpdatedBefore(int64_t unix_ms) {
  std::vector<std::string> out;
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT job FROM jobs WHERE state NOT IN (?, ?)");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, static_cast<int64_t>(emar::v1::JOB_STATE_QUEUED));
  q.Bind(2, static_cast<int64_t>(emar::v1::JOB_STATE_RUNNING));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ASSIGN_OR_RETURN(auto job, ParseBlob<emar::v1::Job>(q.Blob(0), "job"));
    if (job.updated_unix_ms() < unix_ms) out.push_back(job.job_id());
  }
  if (rc != SQLITE_DONE) return q.StepError();
  return out;
}

absl::Status JobStore::AddBlobOwner(const std::string& sha256, const std::string& owner) {
  return Write([&]() -> absl::Status {
    Stmt ins(db_, "INSERT OR IGNORE INTO blob_owners(sha256, owner) VALUES(?, ?)");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, sha256).Bind(2, owner);
    return ins.Run();
  });
}

absl::StatusOr<bool> JobStore::OwnsBlob(const std::string& owner, const std::string& sha256) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT 1 FROM blob_owners WHERE sha256 = ? AND owner = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, sha256).Bind(2, owner);
  const int rc = q.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.StepError();
  return rc == SQLITE_ROW;
}

absl::StatusOr<std::vector<std::pair<emar::v1::JobState, int64_t>>> JobStore::CountJobsByState() {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
  RETURN_IF_ERROR(q.status());
  std::vector<std::pair<emar::v1::JobState, int64_t>> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.emplace_back(static_cast<emar::v1::JobState>(q.Int(0)), q.Int(1));
  }
  if (rc != SQLITE_DONE) return q.StepError();
  return out;
}

}  // namespace emar
