#include "server/session_table.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/sqlite_statement.h"

namespace emar {

absl::StatusOr<std::unique_ptr<SessionTable>> SessionTable::Open(const std::string& path) {
  ASSIGN_OR_RETURN(SqliteDb opened, OpenSqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                                               "the console's sessions"));
  sqlite3* db = opened.release();  // the SessionTable owns it from here
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SessionTable> table(new SessionTable(db));
  // synchronous=FULL as the job store: a login that answered survives a crash.
  if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(path, ": ", sqlite3_errmsg(db)));
  }
  Stmt probe(db, "SELECT 1 FROM console_sessions LIMIT 1");
  if (!probe.status().ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        ": no console_sessions table (open the job store first): ", probe.status().message()));
  }
  return table;
}

SessionTable::~SessionTable() { sqlite3_close(db_); }

absl::Status SessionTable::Put(const std::string& id_sha256, const Principal& who,
                               absl::Time expires, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Stmt gone(db_, "DELETE FROM console_sessions WHERE expires_ms <= ?");
  if (!gone.status().ok()) return gone.status();
  gone.Bind(1, absl::ToUnixMillis(now));
  if (absl::Status s = gone.Run(); !s.ok()) return s;
  Stmt put(db_,
           "INSERT OR REPLACE INTO console_sessions (id_sha256, principal, role, expires_ms) "
           "VALUES (?, ?, ?, ?)");
  if (!put.status().ok()) return put.status();
  put.Bind(1, id_sha256)
      .Bind(2, who.name)
      .Bind(3, static_cast<int64_t>(who.role))
      .Bind(4, absl::ToUnixMillis(expires));
  return put.Run();
}

absl::StatusOr<std::optional<StoredSession>> SessionTable::Find(const std::string& id_sha256,
                                                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  Stmt find(db_, "SELECT principal, role, expires_ms FROM console_sessions WHERE id_sha256 = ?");
  if (!find.status().ok()) return find.status();
  find.Bind(1, id_sha256);
  const int rc = find.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return find.StepError();
  StoredSession s;
  s.who.name = find.Blob(0);
  const int64_t role = find.Int(1);
  s.expires = absl::FromUnixMillis(find.Int(2));
  if (role != static_cast<int64_t>(Role::kClient) && role != static_cast<int64_t>(Role::kAdmin)) {
    return std::nullopt;  // the console never stores a worker's session
  }
  s.who.role = static_cast<Role>(role);
  if (s.expires <= now) {
    Stmt gone(db_, "DELETE FROM console_sessions WHERE id_sha256 = ?");
    if (gone.status().ok()) gone.Bind(1, id_sha256).Run().IgnoreError();
    return std::nullopt;
  }
  return s;
}

absl::Status SessionTable::Remove(const std::string& id_sha256) {
  absl::MutexLock lock(&mu_);
  Stmt gone(db_, "DELETE FROM console_sessions WHERE id_sha256 = ?");
  if (!gone.status().ok()) return gone.status();
  gone.Bind(1, id_sha256);
  return gone.Run();
}

}  // namespace emar
