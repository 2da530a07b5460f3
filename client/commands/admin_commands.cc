// emarctl admin backup DIR: an online backup of the coordinator (client/admin_backup_command.h).
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "client/admin_backup_command.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"

ABSL_FLAG(bool, timestamped, false,
          "admin backup: DIR is a parent; back up into DIR/emar-backup-YYYYMMDDTHHMMSSZ");
ABSL_FLAG(int32_t, keep, 0,
          "admin backup --timestamped: then keep only the newest N backups in DIR (0: keep all)");

namespace emar {

int AdminCommand(const std::vector<std::string>& args) {
  if (args.size() != 2 || args[0] != "backup") return Usage("admin takes: backup DIR");
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  const AdminBackupOptions options{.timestamped = absl::GetFlag(FLAGS_timestamped),
                                   .keep = absl::GetFlag(FLAGS_keep),
                                   .json = Json()};
  absl::Status done = RunAdminBackup(session->channel, args[1], options, std::cout);
  return done.ok() ? 0 : FailCall(*session, done);
}

}  // namespace emar
