#include "client/admin_backup_command.h"

#include "absl/time/clock.h"
#include "client/backup_download.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace emar {

absl::Status RunAdminBackup(const std::shared_ptr<grpc::Channel>& channel, const std::string& dir,
                            const AdminBackupOptions& options, std::ostream& out) {
  const bool timestamped = options.timestamped, json = options.json;
  const int keep = options.keep;
  if (keep < 0 || (keep > 0 && !timestamped)) {
    return absl::InvalidArgumentError("--keep takes a count >= 0 and needs --timestamped");
  }
  const std::string into = timestamped ? TimestampedBackupDir(dir, absl::Now()) : dir;
  auto stub = emar::v1::AdminService::NewStub(channel);
  ASSIGN_OR_RETURN(emar::v1::BackupManifest manifest, DownloadBackup(*stub, into));
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(manifest, &text, options).ok()) {
      return absl::InternalError("cannot print the manifest");
    }
    out << text << "\n";
  } else {
    int64_t bytes = 0;
    for (const auto& f : manifest.files()) bytes += f.size_bytes();
    out << "backed up " << manifest.jobs() << " job(s) and " << manifest.files_size() - 1
        << " blob(s), " << bytes << " bytes, as of " << manifest.created() << ", into " << into
        << "\n";
    if (manifest.missing_sha256_size() > 0) {
      out << manifest.missing_sha256_size()
          << " blob(s) of finished jobs were deleted during the backup and are not in it\n";
    }
  }
  if (keep > 0) {
    ASSIGN_OR_RETURN(std::vector<std::string> removed, PruneBackups(dir, keep));
    for (const std::string& r : removed) {
      if (!json) out << "removed older backup " << r << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace emar
