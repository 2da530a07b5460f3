// The web console's logins, kept in the job store's SQLite file (table console_sessions, job
// store migration 6) so that a restarted coordinator still knows them. A row is keyed by the
// sha256 of the session id, never the id itself: whoever reads the file or a backup of it cannot
// open a session. It holds the principal, its role and when the session expires; expired rows
// are deleted as new ones are written.
//
//   ASSIGN_OR_RETURN(auto table, SessionTable::Open(data_dir + "/jobs.db"));  // after the store
//   RETURN_IF_ERROR(table->Put(Sha256Hex(id), who, expires, absl::Now()));
//   ASSIGN_OR_RETURN(std::optional<StoredSession> s, table->Find(Sha256Hex(id), absl::Now()));
//
// Thread-safe: its own connection to the file, under a mutex; SQLite orders its writes with the
// job store's.
#ifndef EMAR_SERVER_SESSION_TABLE_H_
#define EMAR_SERVER_SESSION_TABLE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/principal.h"

struct sqlite3;

namespace emar {

struct StoredSession {
  Principal who;
  absl::Time expires;
};

class SessionTable {
 public:
  // `path` is a job store's file that JobStore::Open has brought to the current schema.
  static absl::StatusOr<std::unique_ptr<SessionTable>> Open(const std::string& path);
  ~SessionTable();

  // Stores (or replaces) the session whose id hashes to `id_sha256`, and deletes the sessions
  // expired at `now`.
  absl::Status Put(const std::string& id_sha256, const Principal& who, absl::Time expires,
                   absl::Time now);
  // The session, unless it is unknown or expired at `now` (an expired one is deleted).
  absl::StatusOr<std::optional<StoredSession>> Find(const std::string& id_sha256, absl::Time now);
  absl::Status Remove(const std::string& id_sha256);

 private:
  explicit SessionTable(sqlite3* db) : db_(db) {}

  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace emar

#endif  // EMAR_SERVER_SESSION_TABLE_H_
