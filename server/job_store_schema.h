// The job store's schema in one place: an ordered list of numbered migrations, applied by
// `PRAGMA user_version` (the number of the last migration a database has).
//
//   RETURN_IF_ERROR(MigrateJobStore(db, "/var/lib/emar/jobs.db"));
//
// Version 0 is a new, empty database or one made by a build older than the numbering: the first
// migrations look at what such a database already has (a table, a column) and add only what is
// missing, so any older store reaches the newest version with its data. Each migration runs in its
// own transaction together with the version it reaches, so a crash leaves a database at a
// version it fully has. Migrations added after the numbering run exactly once, from the version
// before them, and need not look.
#ifndef EMAR_SERVER_JOB_STORE_SCHEMA_H_
#define EMAR_SERVER_JOB_STORE_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"

struct sqlite3;

namespace emar {

// The version this build's migrations end at.
int JobStoreSchemaVersion();

// The database's PRAGMA user_version.
absl::StatusOr<int> ReadJobStoreVersion(sqlite3* db);

// Applies every migration above the database's version, in order. FAILED_PRECONDITION naming
// `path` when the database was written by a newer build (a version above this build's); a
// failed migration is rolled back and named with its number.
absl::Status MigrateJobStore(sqlite3* db, const std::string& path);

// The blobs a job reads: its inputs and whatever its shards name (the rows of job_blobs).
std::vector<std::string> BlobsOfJob(const emar::v1::CreateJobRequest& request,
                                    const std::vector<emar::v1::ShardTask>& tasks);

// Inserts a job_blobs row for each of `shas` (already present: ignored).
absl::Status InsertJobBlobRows(sqlite3* db, const std::string& job_id,
                               const std::vector<std::string>& shas);

}  // namespace emar

#endif  // EMAR_SERVER_JOB_STORE_SCHEMA_H_
