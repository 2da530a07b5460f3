// Whole-file reads and crash-safe writes. Errors name the path.
#ifndef EMAR_COMMON_FILE_UTIL_H_
#define EMAR_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

absl::StatusOr<std::string> ReadFileToString(const std::string& path);
// Writes to a temporary file beside `path`, fsyncs it, then renames it over `path`, so a reader
// sees the old content or the new, never a torn file.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);
// mkdir -p.
absl::Status MakeDirs(const std::string& path);
// Directory part of a path ("." when there is none) and joining relative paths onto it.
std::string DirName(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& rel);

}  // namespace emar

#endif  // EMAR_COMMON_FILE_UTIL_H_
