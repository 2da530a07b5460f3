// Whole-file reads and crash-safe writes. Errors name the path.
#ifndef EMAR_COMMON_FILE_UTIL_H_
#define EMAR_COMMON_FILE_UTIL_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// A file's bytes without copying them: a regular file is mapped read-only, anything else (an
// empty file, a pipe) is read into memory. The file must not be truncated while it is mapped;
// blobs and inputs are never written in place. Move-only; unmaps when destroyed.
//
//   ASSIGN_OR_RETURN(FileBytes f, FileBytes::Open(path));
//   Scan(f.bytes());
class FileBytes {
 public:
  static absl::StatusOr<FileBytes> Open(const std::string& path);
  FileBytes() = default;
  FileBytes(FileBytes&& other) noexcept { *this = std::move(other); }
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes() { Reset(); }

  absl::string_view bytes() const {
    return map_ != nullptr ? absl::string_view(map_, size_) : owned_;
  }

 private:
  void Reset();
  const char* map_ = nullptr;  // or null when owned_ holds the bytes
  size_t size_ = 0;
  std::string owned_;
};
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
