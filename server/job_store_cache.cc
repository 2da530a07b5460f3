// JobStore's administration: dropping score cache entries, reading where one came from, and the
// write probe that tells a full disk from one with space again.
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/job_store.h"
#include "server/sqlite_statement.h"

namespace emar {

absl::StatusOr<int64_t> JobStore::DropCacheEntries(const std::string& job_id,
                                                   const std::string& digest) {
  if (job_id.empty() == digest.empty()) {
    return absl::InvalidArgumentError("name exactly one of a job id and a digest");
  }
  int64_t dropped = 0;
  RETURN_IF_ERROR(Write([&]() -> absl::Status {
    // Entries without provenance (stored before it was recorded) go when any job that read the
    // blob stored them: a cache may forget more than asked, never less.
    Stmt d(db_, job_id.empty()
                    ? "DELETE FROM score_cache WHERE key = ?1 OR outputs_sha256 = ?1 OR "
                      "references_sha256 = ?1 OR (outputs_sha256 IS NULL AND job_id IN "
                      "(SELECT job_id FROM job_blobs WHERE sha256 = ?1))"
                    : "DELETE FROM score_cache WHERE job_id = ?1 OR key IN (SELECT cache_key "
                      "FROM shards WHERE job_id = ?1 AND cache_key IS NOT NULL)");
    RETURN_IF_ERROR(d.status());
    d.Bind(1, job_id.empty() ? digest : job_id);
    RETURN_IF_ERROR(d.Run());
    dropped = sqlite3_changes(db_);
    return absl::OkStatus();
  }));
  return dropped;
}

absl::Status JobStore::ProbeWrite(int64_t unix_ms) {
  return Write([&]() -> absl::Status {
    Stmt w(db_, "INSERT OR REPLACE INTO write_probe(id, unix_ms) VALUES(1, ?)");
    RETURN_IF_ERROR(w.status());
    w.Bind(1, unix_ms);
    return w.Run();
  });
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>> JobStore::CacheEntrySource(
    const std::string& key) {
  absl::MutexLock lock(&mu_);
  Stmt q(db_, "SELECT principal, worker FROM score_cache WHERE key = ?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, key);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return q.StepError();
  return std::make_pair(q.Blob(0), q.Blob(1));
}

}  // namespace emar
