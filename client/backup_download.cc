#include "client/backup_download.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/backup_layout.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace emar {
namespace {

namespace fs = std::filesystem;

constexpr char kBackupPrefix[] = "emar-backup-";

absl::Status Errno(const std::string& path, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat(path, ": ", what, ": ", std::generic_category().message(errno)));
}

// One file being received: written under a temporary name, renamed once verified.
class IncomingFile {
 public:
  static absl::StatusOr<IncomingFile> Open(const std::string& dir, emar::v1::BackupFile entry) {
    if (!IsBackupPathFor(entry.path(), entry.sha256())) {
      return absl::DataLossError(
          absl::StrCat("the coordinator sent a file named '", entry.path(),
                       "', which is not jobs.db or blobs/AB/SHA256 of its digest"));
    }
    IncomingFile f;
    f.final_ = JoinPath(dir, entry.path());
    f.tmp_ = f.final_ + ".partial";
    f.entry_ = std::move(entry);
    RETURN_IF_ERROR(MakeDirs(DirName(f.final_)));
    f.fd_ = ::open(f.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f.fd_ < 0) return Errno(f.tmp_, "cannot create it");
    f.hasher_ = std::make_unique<Sha256Hasher>();
    return f;
  }
  IncomingFile() = default;
  IncomingFile(IncomingFile&& o) noexcept { *this = std::move(o); }
  IncomingFile& operator=(IncomingFile&& o) noexcept {
    std::swap(fd_, o.fd_);
    final_ = std::move(o.final_);
    tmp_ = std::move(o.tmp_);
    entry_ = std::move(o.entry_);
    hasher_ = std::move(o.hasher_);
    written_ = o.written_;
    return *this;
  }
  ~IncomingFile() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }

  absl::Status Append(absl::string_view data) {
    if (written_ + static_cast<int64_t>(data.size()) > entry_.size_bytes()) {
      return absl::DataLossError(
          absl::StrCat(entry_.path(), ": more than the announced ", entry_.size_bytes(), " bytes"));
    }
    hasher_->Update(data);
    written_ += data.size();
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno(tmp_, "write failed");
      data.remove_prefix(n);
    }
    return absl::OkStatus();
  }

  // Checks size and digest, fsyncs, renames into place.
  absl::Status Finish() {
    const std::string digest = hasher_->FinishHex();
    if (written_ != entry_.size_bytes() || digest != entry_.sha256()) {
      return absl::DataLossError(absl::StrCat(entry_.path(), ": received ", written_,
                                              " bytes with sha256 ", digest, ", announced ",
                                              entry_.size_bytes(), " with ", entry_.sha256()));
    }
    if (::fsync(fd_) != 0) return Errno(tmp_, "fsync failed");
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) return Errno(final_, "rename failed");
    return absl::OkStatus();
  }
  const emar::v1::BackupFile& entry() const { return entry_; }

 private:
  int fd_ = -1;
  std::string final_, tmp_;
  emar::v1::BackupFile entry_;
  std::unique_ptr<Sha256Hasher> hasher_;
  int64_t written_ = 0;
};

absl::Status PrepareDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not empty: back up into a new or empty directory"));
  }
  return MakeDirs(dir);
}

// The files received must be exactly those the manifest lists.
absl::Status CheckManifest(const emar::v1::BackupManifest& manifest,
                           const std::vector<emar::v1::BackupFile>& received) {
  bool same = manifest.files_size() == static_cast<int>(received.size());
  for (int i = 0; same && i < manifest.files_size(); ++i) {
    same = manifest.files(i).SerializeAsString() == received[i].SerializeAsString();
  }
  if (!same || manifest.format() != kBackupFormat) {
    return absl::DataLossError(absl::StrCat(
        "the backup's manifest (format '", manifest.format(), "', ", manifest.files_size(),
        " files) does not match the ", received.size(), " files received"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<emar::v1::BackupManifest> DownloadBackup(emar::v1::AdminService::StubInterface& stub,
                                                        const std::string& dir) {
  RETURN_IF_ERROR(PrepareDir(dir));
  grpc::ClientContext ctx;
  auto reader = stub.Backup(&ctx, emar::v1::BackupRequest());
  emar::v1::BackupChunk msg;
  std::optional<IncomingFile> current;
  std::vector<emar::v1::BackupFile> received;
  std::optional<emar::v1::BackupManifest> manifest;
  absl::Status failed;
  while (failed.ok() && reader->Read(&msg)) {
    if (msg.has_file() || msg.has_manifest()) {
      if (current) {
        failed = current->Finish();
        if (failed.ok()) received.push_back(current->entry());
        current.reset();
      }
      if (failed.ok() && msg.has_file()) {
        absl::StatusOr<IncomingFile> f = IncomingFile::Open(dir, msg.file());
        if (f.ok()) current.emplace(std::move(*f));
        failed = f.status();
      }
      if (msg.has_manifest()) manifest = msg.manifest();
    } else if (current) {
      failed = current->Append(msg.chunk());
    } else {
      failed = absl::DataLossError("the coordinator sent bytes before naming their file");
    }
  }
  if (!failed.ok()) {
    ctx.TryCancel();
    reader->Finish().ok();  // the stream's own status says nothing more
    return failed;
  }
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  if (!manifest) return absl::DataLossError("the backup stream ended without its manifest");
  RETURN_IF_ERROR(CheckManifest(*manifest, received));
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*manifest, &json, options).ok()) {
    return absl::InternalError("cannot print the manifest");
  }
  RETURN_IF_ERROR(WriteFileAtomically(JoinPath(dir, kBackupManifestName), json));
  return *manifest;
}

std::string TimestampedBackupDir(const std::string& parent, absl::Time now) {
  return JoinPath(parent, absl::StrCat(kBackupPrefix, absl::FormatTime("%Y%m%dT%H%M%SZ", now,
                                                                       absl::UTCTimeZone())));
}

absl::StatusOr<std::vector<std::string>> PruneBackups(const std::string& parent, int keep) {
  std::vector<std::string> complete, incomplete;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || !absl::StartsWith(name, kBackupPrefix)) continue;
    (fs::exists(e.path() / kBackupManifestName) ? complete : incomplete).push_back(name);
  }
  if (ec) return absl::InternalError(absl::StrCat(parent, ": ", ec.message()));
  std::sort(complete.begin(), complete.end());
  std::vector<std::string> doomed;
  if (static_cast<int>(complete.size()) > keep) {
    doomed.assign(complete.begin(), complete.end() - keep);
  }
  for (const std::string& name : incomplete) {
    if (!complete.empty() && name < complete.back()) doomed.push_back(name);
  }
  std::vector<std::string> removed;
  for (const std::string& name : doomed) {
    const std::string path = JoinPath(parent, name);
    fs::remove_all(path, ec);
    if (ec) return absl::InternalError(absl::StrCat(path, ": ", ec.message()));
    removed.push_back(path);
  }
  return removed;
}

}  // namespace emar
