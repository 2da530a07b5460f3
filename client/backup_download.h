// emarctl admin backup: receives a coordinator's online backup (emar.v1.AdminService.Backup)
// into a directory laid out as common/backup_layout.h describes, checking every file's size and
// digest as it arrives, and writes MANIFEST.json only once all of them are on disk (fsynced), so
// a directory with a manifest is a complete backup.
//
//   ASSIGN_OR_RETURN(emar::v1::BackupManifest m, DownloadBackup(*stub, "/backups/2026-12-07"));
//   emar-coordinator --restore /backups/2026-12-07 --data-dir /var/lib/emar   # to bring it back
#ifndef EMAR_CLIENT_BACKUP_DOWNLOAD_H_
#define EMAR_CLIENT_BACKUP_DOWNLOAD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "emar/v1/service.grpc.pb.h"

namespace emar {

// Streams the backup into `dir`, which must not exist or be empty (it is created).
// FAILED_PRECONDITION for a non-empty `dir`; DATA_LOSS when a file arrives with another size or
// digest than announced; the call's own status (PERMISSION_DENIED without an admin token, ...)
// otherwise. A failed backup leaves no MANIFEST.json.
absl::StatusOr<emar::v1::BackupManifest> DownloadBackup(emar::v1::AdminService::StubInterface& stub,
                                                        const std::string& dir);

// PARENT/emar-backup-YYYYMMDDTHHMMSSZ for `now`: names that sort by time.
std::string TimestampedBackupDir(const std::string& parent, absl::Time now);

// Removes all but the newest `keep` complete backups (emar-backup-* with a manifest) in
// `parent`, and any incomplete one older than the newest complete; returns what it removed.
absl::StatusOr<std::vector<std::string>> PruneBackups(const std::string& parent, int keep);

}  // namespace emar

#endif  // EMAR_CLIENT_BACKUP_DOWNLOAD_H_
