// Online backups of a coordinator's data dir: a consistent copy of the job store (SQLite's
// online backup API, JobStore::CopyTo) and the blobs it references, staged in the data dir while
// the coordinator keeps serving, then streamed to an admin (server/admin_service.h); and the
// offline restore of such a backup into an empty data dir (emar-coordinator --restore).
//
//   ASSIGN_OR_RETURN(auto snap, BackupSnapshot::Take(&store, blobs, data_dir + "/backup.tmp"));
//   for (const StagedFile& f : snap->files()) Send(f.staged_path, f.entry);
//   Send(snap->manifest());
//
// Blobs are content-addressed and never written in place, so a hard link taken right after the
// copy keeps each one readable whatever retention or DeleteJob does meanwhile. A blob deleted
// between the copy and its link (it belonged only to a finished job) is listed in the manifest
// as missing; that job's report is in the copied store.
#ifndef EMAR_SERVER_JOB_STORE_BACKUP_H_
#define EMAR_SERVER_JOB_STORE_BACKUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/blob_store.h"
#include "server/job_store.h"

namespace emar {

struct StagedFile {
  std::string staged_path;     // where the bytes are read from
  emar::v1::BackupFile entry;  // path inside the backup, size, digest
};

class BackupSnapshot {
 public:
  // Copies the store into `staging_dir` (emptied first: a crashed backup's leftovers go) and
  // hard-links every blob the copy references beside it.
  static absl::StatusOr<std::unique_ptr<BackupSnapshot>> Take(JobStore* store,
                                                              const BlobStore& blobs,
                                                              const std::string& staging_dir);
  ~BackupSnapshot();  // removes the staging dir

  // jobs.db first, then the blobs in digest order.
  const std::vector<StagedFile>& files() const { return files_; }
  const emar::v1::BackupManifest& manifest() const { return manifest_; }

 private:
  explicit BackupSnapshot(std::string staging_dir) : staging_dir_(std::move(staging_dir)) {}

  const std::string staging_dir_;
  std::vector<StagedFile> files_;
  emar::v1::BackupManifest manifest_;
};

struct RestoreSummary {
  int64_t jobs = 0;
  int64_t blobs = 0;
  int64_t bytes = 0;
};

// Restores the backup in `backup_dir` (as emarctl admin backup wrote it) into `data_dir`, which
// must hold no job store yet. Every file's size and digest is checked against MANIFEST.json
// before it is copied; the blobs go first and jobs.db last, so an interrupted restore leaves no
// store behind and can be run again. Errors name the file and what is wrong with it.
absl::StatusOr<RestoreSummary> RestoreBackup(const std::string& backup_dir,
                                             const std::string& data_dir);

}  // namespace emar

#endif  // EMAR_SERVER_JOB_STORE_BACKUP_H_
