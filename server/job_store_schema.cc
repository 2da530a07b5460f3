#include "server/job_store_schema.h"

#include <sqlite3.h>

#include <iterator>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar {
namespace {

// --- a little SQLite, enough for the migrations ---

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", msg));
  }
  return absl::OkStatus();
}

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;

absl::StatusOr<Statement> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return absl::InternalError(absl::StrCat("sqlite prepare: ", sqlite3_errmsg(db)));
  }
  return Statement(s);
}

std::string Column(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  return std::string(static_cast<const char*>(p), sqlite3_column_bytes(s, col));
}

absl::StatusOr<bool> HasTable(sqlite3* db, const char* table) {
  ASSIGN_OR_RETURN(Statement q,
                   Prepare(db, absl::StrCat("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                            "AND name = '",
                                            table, "'")));
  return sqlite3_step(q.get()) == SQLITE_ROW;
}

absl::StatusOr<bool> HasColumn(sqlite3* db, const char* table, const char* column) {
  ASSIGN_OR_RETURN(Statement q, Prepare(db, absl::StrCat("PRAGMA table_info(", table, ")")));
  bool found = false;
  while (sqlite3_step(q.get()) == SQLITE_ROW) found |= Column(q.get(), 1) == column;
  return found;
}

absl::Status AddColumnIfMissing(sqlite3* db, const char* table, const char* column,
                                const char* definition) {
  ASSIGN_OR_RETURN(const bool has, HasColumn(db, table, column));
  if (has) return absl::OkStatus();
  return Exec(db, absl::StrCat("ALTER TABLE ", table, " ADD COLUMN ", column, " ", definition));
}

template <typename Msg>
absl::StatusOr<Msg> ParseStored(const std::string& bytes, const char* what,
                                const std::string& job_id) {
  Msg m;
  if (!m.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("corrupt stored ", what, " of job ", job_id));
  }
  return m;
}

// --- the migrations, oldest first ---

// 1: jobs, their shards and the shards' results (the first build's whole schema).
absl::Status CreateJobsAndShards(sqlite3* db) {
  return Exec(db, R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  request_id TEXT UNIQUE,
  created_ms INTEGER NOT NULL,
  state INTEGER NOT NULL,
  job BLOB NOT NULL,
  request BLOB NOT NULL,
  report BLOB
);
CREATE TABLE IF NOT EXISTS shards (
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL,
  task BLOB NOT NULL,
  rows INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, shard_id)
);
CREATE TABLE IF NOT EXISTS shard_results (
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (job_id, shard_id)
);
)sql");
}

// job_blobs, filled from every stored job: its request's inputs and its shards' blobs.
absl::Status BackfillJobBlobs(sqlite3* db) {
  std::vector<std::pair<std::string, std::string>> jobs;
  {
    ASSIGN_OR_RETURN(Statement q, Prepare(db, "SELECT job_id, request FROM jobs"));
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      jobs.emplace_back(Column(q.get(), 0), Column(q.get(), 1));
    }
  }
  ASSIGN_OR_RETURN(Statement tasks_of, Prepare(db, "SELECT task FROM shards WHERE job_id = ?"));
  for (const auto& [job_id, request_bytes] : jobs) {
    ASSIGN_OR_RETURN(auto request,
                     ParseStored<emar::v1::CreateJobRequest>(request_bytes, "job request", job_id));
    std::vector<emar::v1::ShardTask> tasks;
    sqlite3_reset(tasks_of.get());
    sqlite3_bind_text(tasks_of.get(), 1, job_id.data(), static_cast<int>(job_id.size()),
                      SQLITE_TRANSIENT);
    while (sqlite3_step(tasks_of.get()) == SQLITE_ROW) {
      ASSIGN_OR_RETURN(
          auto task, ParseStored<emar::v1::ShardTask>(Column(tasks_of.get(), 0), "shard", job_id));
      tasks.push_back(std::move(task));
    }
    RETURN_IF_ERROR(InsertJobBlobRows(db, job_id, BlobsOfJob(request, tasks)));
  }
  return absl::OkStatus();
}

// 2: principals (bearer tokens): each job's owner (older jobs belong to the anonymous principal,
// ''), who uploaded each blob, and which blobs each job reads (a blob no job reads may be
// deleted), backfilled from the stored jobs.
absl::Status AddOwnersAndJobBlobs(sqlite3* db) {
  RETURN_IF_ERROR(AddColumnIfMissing(db, "jobs", "owner", "TEXT NOT NULL DEFAULT ''"));
  RETURN_IF_ERROR(Exec(db, R"sql(
CREATE TABLE IF NOT EXISTS blob_owners (
  sha256 TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (sha256, owner)
);
)sql"));
  ASSIGN_OR_RETURN(const bool has_job_blobs, HasTable(db, "job_blobs"));
  if (has_job_blobs) return absl::OkStatus();
  RETURN_IF_ERROR(Exec(db, R"sql(
CREATE TABLE job_blobs (
  job_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (job_id, sha256)
);
CREATE INDEX job_blobs_by_sha ON job_blobs(sha256);
)sql"));
  return BackfillJobBlobs(db);
}

// 3: job labels, the score cache across jobs (a key, server/content_keys.h, names a stored shard
// result that has it) and request fingerprints (request-id conflicts). Older jobs have no
// fingerprint (any request with their id is taken as theirs) and their shards were never cached.
absl::Status AddLabelsScoreCacheAndFingerprints(sqlite3* db) {
  RETURN_IF_ERROR(Exec(db, R"sql(
CREATE TABLE IF NOT EXISTS job_labels (
  job_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (job_id, key)
);
CREATE INDEX IF NOT EXISTS job_labels_by_label ON job_labels(key, value);
CREATE TABLE IF NOT EXISTS score_cache (
  key TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS score_cache_by_job ON score_cache(job_id);
)sql"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "jobs", "request_sha256", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "shards", "cache_key", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "shards", "reused", "INTEGER NOT NULL DEFAULT 0"));
  return Exec(db, "CREATE INDEX IF NOT EXISTS shards_by_cache_key ON shards(cache_key)");
}

// 4: indexes of jobs by creation time, alone and after owner and state, so a page of ListJobs
// (newest first; a principal's own, or in some states) reads its rows in order from an index
// instead of sorting or scanning the whole table (the console's jobs list with 10,000 jobs).
absl::Status AddJobListIndexes(sqlite3* db) {
  return Exec(db, R"sql(
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_ms);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner, created_ms);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, created_ms);
)sql");
}

// 5: where each score cache entry came from: the principal whose job stored it, the worker that
// scored it, the blobs it read (for dropping entries by input digest) and when (older entries
// have none of these); and a one-row table the coordinator writes to learn whether a full disk
// has space again.
absl::Status AddScoreCacheProvenance(sqlite3* db) {
  RETURN_IF_ERROR(AddColumnIfMissing(db, "score_cache", "principal", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "score_cache", "worker", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "score_cache", "outputs_sha256", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "score_cache", "references_sha256", "TEXT"));
  RETURN_IF_ERROR(AddColumnIfMissing(db, "score_cache", "created_ms", "INTEGER"));
  return Exec(db, R"sql(
CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, unix_ms INTEGER);
CREATE INDEX IF NOT EXISTS score_cache_by_outputs ON score_cache(outputs_sha256);
CREATE INDEX IF NOT EXISTS score_cache_by_references ON score_cache(references_sha256);
)sql");
}

// 6: the web console's logins (server/session_table.h), so that a restart keeps them: keyed by
// the sha256 of the session id, never the id.
absl::Status AddConsoleSessions(sqlite3* db) {
  return Exec(db, R"sql(
CREATE TABLE IF NOT EXISTS console_sessions (
  id_sha256 TEXT PRIMARY KEY,
  principal TEXT NOT NULL,
  role INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_by_expiry ON console_sessions(expires_ms);
)sql");
}

struct Migration {
  const char* what;
  absl::Status (*apply)(sqlite3* db);
};

// Migration i + 1 takes a database from version i to i + 1. Append only: never edit or reorder
// one that a release has run.
constexpr Migration kMigrations[] = {
    {"jobs, shards and results", CreateJobsAndShards},
    {"owners and job blobs", AddOwnersAndJobBlobs},
    {"labels, score cache and request fingerprints", AddLabelsScoreCacheAndFingerprints},
    {"jobs by creation time, owner and state", AddJobListIndexes},
    {"score cache provenance", AddScoreCacheProvenance},
    {"console sessions", AddConsoleSessions},
};

// Runs migration number `version` (1-based) and records it, in one transaction.
absl::Status Apply(sqlite3* db, int version) {
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  absl::Status s = kMigrations[version - 1].apply(db);
  if (s.ok()) s = Exec(db, absl::StrCat("PRAGMA user_version = ", version));
  if (s.ok()) s = Exec(db, "COMMIT");
  if (!s.ok()) Exec(db, "ROLLBACK").IgnoreError();
  return s;
}

}  // namespace

int JobStoreSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

absl::StatusOr<int> ReadJobStoreVersion(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement q, Prepare(db, "PRAGMA user_version"));
  if (sqlite3_step(q.get()) != SQLITE_ROW) {
    return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
  }
  return static_cast<int>(sqlite3_column_int64(q.get(), 0));
}

absl::Status MigrateJobStore(sqlite3* db, const std::string& path) {
  ASSIGN_OR_RETURN(const int version, ReadJobStoreVersion(db));
  if (version > JobStoreSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": job store schema version ", version, " is newer than this build's (",
                     JobStoreSchemaVersion(),
                     "): run a coordinator at least as new as the one "
                     "that wrote it"));
  }
  for (int next = version + 1; next <= JobStoreSchemaVersion(); ++next) {
    if (absl::Status s = Apply(db, next); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ": job store migration ", next, " (",
                                                 kMigrations[next - 1].what, "): ", s.message()));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> BlobsOfJob(const emar::v1::CreateJobRequest& request,
                                    const std::vector<emar::v1::ShardTask>& tasks) {
  std::set<std::string> shas;
  for (const auto& [path, sha] : request.input_digests()) shas.insert(sha);
  for (const emar::v1::ShardTask& t : tasks) {
    if (!t.references().sha256().empty()) shas.insert(t.references().sha256());
    if (!t.outputs().sha256().empty()) shas.insert(t.outputs().sha256());
  }
  return std::vector<std::string>(shas.begin(), shas.end());
}

absl::Status InsertJobBlobRows(sqlite3* db, const std::string& job_id,
                               const std::vector<std::string>& shas) {
  ASSIGN_OR_RETURN(Statement ins,
                   Prepare(db, "INSERT OR IGNORE INTO job_blobs(job_id, sha256) VALUES(?, ?)"));
  for (const std::string& sha : shas) {
    sqlite3_reset(ins.get());
    sqlite3_bind_text(ins.get(), 1, job_id.data(), static_cast<int>(job_id.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(ins.get(), 2, sha.data(), static_cast<int>(sha.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) {
      return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
    }
  }
  return absl::OkStatus();
}

}  // namespace emar
