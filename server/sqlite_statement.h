// The job store's SQLite helpers: OpenSqlite, a connection opened with an error that names the
// file; Stmt, a prepared statement that finalizes (or, taken from a StmtCache, resets) itself,
// with chained binds and typed column reads; and StmtCache, the hot path's statements prepared
// once per connection.
//
//   Stmt s(db, "SELECT proto FROM jobs WHERE job_id = ?");
//   RETURN_IF_ERROR(s.status());
//   s.Bind(1, job_id);
//   if (s.Step() == SQLITE_ROW) ... s.Blob(0) ...
//
// Not thread-safe: a statement and a cache belong to one connection, used under its lock.
#ifndef EMAR_SERVER_SQLITE_STATEMENT_H_
#define EMAR_SERVER_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/storage_full.h"

namespace emar {

// The status of a failed SQLite call on `db` that returned `rc`: a full disk is marked as such
// (server/storage_full.h), a constraint violation is ALREADY_EXISTS, anything else INTERNAL.
inline absl::Status SqliteError(sqlite3* db, int rc, absl::string_view message) {
  const int primary = rc & 0xff;
  const int err = primary == SQLITE_IOERR ? sqlite3_system_errno(db) : 0;
  if (primary == SQLITE_FULL || err == ENOSPC || err == EDQUOT) {
    return StorageFullError(absl::StrCat("sqlite: ", message));
  }
  if (primary == SQLITE_CONSTRAINT)
    return absl::AlreadyExistsError(absl::StrCat("sqlite: ", message));
  return absl::InternalError(absl::StrCat("sqlite: ", message));
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

// Opens `path` with sqlite3_open_v2's `flags`. The error is INTERNAL "PATH: cannot open WHAT:
// SQLite's message", e.g. what = "the job store".
inline absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path, int flags,
                                           absl::string_view what) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  SqliteDb owned(db);
  if (rc != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(path, ": cannot open ", what, ": ",
                                            db ? sqlite3_errmsg(db) : "out of memory"));
  }
  return owned;
}

// Statements of the hot path (storing a shard's result, the group commit's savepoints), prepared
// once per connection and reused: compiling them for every write cost about as much as the rest
// of the write. Keyed by the address of their SQL literal; used under JobStore::mu_.
class StmtCache {
 public:
  ~StmtCache() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  }
  // The statement for `sql` (a string literal), prepared on first use; rc as sqlite3_prepare.
  sqlite3_stmt* Get(sqlite3* db, const char* sql, int* rc) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) {
      *rc = SQLITE_OK;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    *rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (*rc == SQLITE_OK) stmts_[sql] = stmt;
    return stmt;
  }

 private:
  absl::flat_hash_map<const char*, sqlite3_stmt*> stmts_;
};

// A prepared statement that finalizes itself, or, taken from a StmtCache, is reset for its next
// use.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  Stmt(sqlite3* db, const char* sql, StmtCache& cache) : db_(db), cached_(true) {
    stmt_ = cache.Get(db, sql, &rc_);
  }
  ~Stmt() {
    if (!cached_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  absl::Status status() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("sqlite prepare: ", sqlite3_errmsg(db_)));
  }
  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& s) {
    sqlite3_bind_blob(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  absl::Status Run() {
    const int rc = Step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
    return SqliteError(db_, rc, sqlite3_errmsg(db_));
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Blob(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    return std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
  }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  absl::Status StepError() { return SqliteError(db_, sqlite3_errcode(db_), sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
  bool cached_ = false;
};

}  // namespace emar

#endif  // EMAR_SERVER_SQLITE_STATEMENT_H_
