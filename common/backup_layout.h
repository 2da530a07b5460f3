// The layout of a backup directory, shared by the coordinator (which streams and restores
// backups) and emarctl (which writes them):
//
//   DIR/jobs.db           a consistent copy of the job store
//   DIR/blobs/AB/SHA256   every blob it references, as in the data dir
//   DIR/MANIFEST.json     emar.v1.BackupManifest, written last: without it the backup is partial
#ifndef EMAR_COMMON_BACKUP_LAYOUT_H_
#define EMAR_COMMON_BACKUP_LAYOUT_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"

namespace emar {

inline constexpr char kBackupFormat[] = "emar-backup/1";
inline constexpr char kBackupManifestName[] = "MANIFEST.json";
inline constexpr char kBackupStoreName[] = "jobs.db";

// "blobs/AB/SHA256": where a blob lives, relative to a backup or data dir.
inline std::string BackupBlobPath(absl::string_view sha256) {
  return absl::StrCat("blobs/", sha256.substr(0, 2), "/", sha256);
}

// Whether `path` is one a backup may hold for content with digest `sha256`: the store, or that
// blob under its own name. Anything else (`..`, absolute paths, another name) is refused, so a
// manifest cannot make emarctl or a restore write outside the directory.
inline bool IsBackupPathFor(absl::string_view path, absl::string_view sha256) {
  if (path == kBackupStoreName) return true;
  return IsSha256Hex(sha256) && path == BackupBlobPath(sha256);
}

}  // namespace emar

#endif  // EMAR_COMMON_BACKUP_LAYOUT_H_
