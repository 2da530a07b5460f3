// `emarctl admin backup DIR`: an admin's online backup of a coordinator, received into DIR
// (client/backup_download.h). With --timestamped, DIR is a parent and the backup goes into
// DIR/emar-backup-YYYYMMDDTHHMMSSZ; --keep N then removes all but the newest N there (what a
// CronJob writing to a volume needs, since the image has no shell to name or prune them).
#ifndef EMAR_CLIENT_ADMIN_BACKUP_COMMAND_H_
#define EMAR_CLIENT_ADMIN_BACKUP_COMMAND_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace emar {

struct AdminBackupOptions {
  bool timestamped = false;  // --timestamped
  int keep = 0;              // --keep (0: keep all)
  bool json = false;         // print the manifest as JSON instead of a summary line
};

// Backs up into `dir` (or a timestamped directory in it) and prints where and what.
absl::Status RunAdminBackup(const std::shared_ptr<grpc::Channel>& channel, const std::string& dir,
                            const AdminBackupOptions& options, std::ostream& out);

}  // namespace emar

#endif  // EMAR_CLIENT_ADMIN_BACKUP_COMMAND_H_
