#include "server/job_store_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/backup_layout.h"
#include "common/build_info.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "server/sqlite_statement.h"

namespace emar {
namespace {

absl::Status Errno(const std::string& path, absl::string_view what) {
  return absl::InternalError(absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

// What a copied store names: its job count and every blob a job reads or a principal uploaded.
struct StoreContents {
  int64_t jobs = 0;
  std::set<std::string> blobs;
};

absl::StatusOr<StoreContents> ReadStoreContents(const std::string& path) {
  ASSIGN_OR_RETURN(SqliteDb opened, OpenSqlite(path, SQLITE_OPEN_READONLY, "the copied job store"));
  sqlite3* const db = opened.get();
  StoreContents contents;
  absl::Status status;
  {
    Stmt count(db, "SELECT COUNT(*) FROM jobs");
    status = count.status();
    if (status.ok() && count.Step() == SQLITE_ROW) contents.jobs = count.Int(0);
    Stmt shas(db, "SELECT sha256 FROM job_blobs UNION SELECT sha256 FROM blob_owners");
    if (status.ok()) status = shas.status();
    int rc = SQLITE_ROW;
    while (status.ok() && (rc = shas.Step()) == SQLITE_ROW) contents.blobs.insert(shas.Blob(0));
    if (status.ok() && rc != SQLITE_DONE) status = shas.StepError();
  }
  if (!status.ok()) return status;
  return contents;
}

// Copies `src` to `dst` (through a temporary file, fsynced, then renamed), checking on the way
// that it has `want`'s size and digest; the error names `display` (the file in the backup).
absl::Status CopyVerified(const std::string& src, const std::string& dst,
                          const emar::v1::BackupFile& want, const std::string& display) {
  const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno(display, "cannot read it");
  const std::string tmp = dst + ".restoring";
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return Errno(tmp, "cannot create it");
  }
  Sha256Hasher hasher;
  int64_t total = 0;
  std::string buf(1 << 20, '\0');
  absl::Status status;
  while (status.ok()) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Errno(display, "read failed");
    if (n <= 0) break;
    hasher.Update(absl::string_view(buf.data(), n));
    total += n;
    for (ssize_t done = 0; status.ok() && done < n;) {
      const ssize_t w = ::write(out, buf.data() + done, n - done);
      if (w < 0 && errno != EINTR) status = Errno(tmp, "write failed");
      if (w > 0) done += w;
    }
  }
  if (status.ok() && ::fsync(out) != 0) status = Errno(tmp, "fsync failed");
  ::close(in);
  ::close(out);
  const std::string digest = hasher.FinishHex();
  if (status.ok() && (total != want.size_bytes() || digest != want.sha256())) {
    status = absl::DataLossError(absl::StrCat(display, ": ", total, " bytes with sha256 ", digest,
                                              ", but MANIFEST.json says ", want.size_bytes(),
                                              " bytes with sha256 ", want.sha256()));
  }
  if (status.ok() && ::rename(tmp.c_str(), dst.c_str()) != 0) status = Errno(dst, "rename failed");
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

absl::StatusOr<emar::v1::BackupManifest> ReadManifest(const std::string& backup_dir) {
  const std::string path = JoinPath(backup_dir, kBackupManifestName);
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(path, ": ", text.status().message(),
                                            " (an interrupted backup has no manifest)"));
  }
  emar::v1::BackupManifest manifest;
  if (auto st = google::protobuf::util::JsonStringToMessage(*text, &manifest); !st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a backup manifest: ", st.ToString()));
  }
  if (manifest.format() != kBackupFormat) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": format '", manifest.format(),
                                                   "', this coordinator reads ", kBackupFormat));
  }
  bool has_store = false;
  for (int i = 0; i < manifest.files_size(); ++i) {
    const emar::v1::BackupFile& f = manifest.files(i);
    if (!IsBackupPathFor(f.path(), f.sha256()) || !IsSha256Hex(f.sha256())) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": files[", i, "]: path '", f.path(),
                                                     "' is not jobs.db or blobs/AB/SHA256 of its "
                                                     "sha256"));
    }
    has_store |= f.path() == kBackupStoreName;
  }
  if (!has_store) return absl::InvalidArgumentError(absl::StrCat(path, ": no jobs.db listed"));
  return manifest;
}

}  // namespace

absl::Status JobStore::CopyTo(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": already exists"));
  }
  ASSIGN_OR_RETURN(SqliteDb opened,
                   OpenSqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "the copy"));
  sqlite3* const dest = opened.get();
  sqlite3_backup* backup = nullptr;
  {
    absl::MutexLock lock(&mu_);
    backup = sqlite3_backup_init(dest, "main", db_, "main");
  }
  if (backup == nullptr) {
    return absl::InternalError(absl::StrCat(path, ": sqlite backup: ", sqlite3_errmsg(dest)));
  }
  // Steps run under mu_, between the store's transactions (a group commit holds mu_ from BEGIN
  // to COMMIT). Writes made through this connection between steps are applied to the copy by
  // SQLite as they happen, so the copy is the store as of the last step.
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    {
      absl::MutexLock lock(&mu_);
      rc = sqlite3_backup_step(backup, 256);
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) absl::SleepFor(absl::Milliseconds(5));
  }
  {
    absl::MutexLock lock(&mu_);
    sqlite3_backup_finish(backup);
  }
  absl::Status status;
  if (rc != SQLITE_DONE) {
    status = absl::InternalError(absl::StrCat(path, ": sqlite backup: ", sqlite3_errstr(rc)));
  }
  if (sqlite3_close(opened.release()) != SQLITE_OK && status.ok()) {
    status = absl::InternalError(absl::StrCat(path, ": closing the copy failed"));
  }
  return status;
}

absl::StatusOr<std::unique_ptr<BackupSnapshot>> BackupSnapshot::Take(
    JobStore* store, const BlobStore& blobs, const std::string& staging_dir) {
  std::error_code ec;
  std::filesystem::remove_all(staging_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(staging_dir, ": ", ec.message()));
  RETURN_IF_ERROR(MakeDirs(staging_dir));
  std::unique_ptr<BackupSnapshot> snap(new BackupSnapshot(staging_dir));
  const std::string db_copy = JoinPath(staging_dir, kBackupStoreName);
  const absl::Time created = absl::Now();
  RETURN_IF_ERROR(store->CopyTo(db_copy));
  ASSIGN_OR_RETURN(StoreContents contents, ReadStoreContents(db_copy));
  // Link first, hash and describe afterwards: the window in which a blob can vanish is short.
  std::vector<std::string> linked;
  for (const std::string& sha : contents.blobs) {
    if (!IsSha256Hex(sha)) continue;  // never stored by this coordinator
    const std::string staged = JoinPath(staging_dir, sha);
    if (::link(blobs.PathOf(sha).c_str(), staged.c_str()) == 0) {
      linked.push_back(sha);
    } else if (errno == ENOENT) {
      snap->manifest_.add_missing_sha256(sha);
    } else {
      return Errno(staged, absl::StrCat("cannot link blob ", sha));
    }
  }
  ASSIGN_OR_RETURN(std::string db_digest, Sha256OfFile(db_copy));
  struct stat st;
  if (::stat(db_copy.c_str(), &st) != 0) return Errno(db_copy, "stat");
  StagedFile db_file{.staged_path = db_copy};
  db_file.entry.set_path(kBackupStoreName);
  db_file.entry.set_size_bytes(st.st_size);
  db_file.entry.set_sha256(db_digest);
  snap->files_.push_back(std::move(db_file));
  for (const std::string& sha : linked) {
    StagedFile f{.staged_path = JoinPath(staging_dir, sha)};
    if (::stat(f.staged_path.c_str(), &st) != 0) return Errno(f.staged_path, "stat");
    f.entry.set_path(BackupBlobPath(sha));
    f.entry.set_size_bytes(st.st_size);
    f.entry.set_sha256(sha);  // verified when it was stored; emarctl verifies it again
    snap->files_.push_back(std::move(f));
  }
  emar::v1::BackupManifest& m = snap->manifest_;
  m.set_format(kBackupFormat);
  m.set_created(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", created, absl::UTCTimeZone()));
  m.set_coordinator_version(absl::StrCat(BuildVersion(), " (", BuildCommit(), ")"));
  m.set_jobs(contents.jobs);
  for (const StagedFile& f : snap->files_) *m.add_files() = f.entry;
  return snap;
}

BackupSnapshot::~BackupSnapshot() {
  std::error_code ec;
  std::filesystem::remove_all(staging_dir_, ec);
}

absl::StatusOr<RestoreSummary> RestoreBackup(const std::string& backup_dir,
                                             const std::string& data_dir) {
  ASSIGN_OR_RETURN(emar::v1::BackupManifest manifest, ReadManifest(backup_dir));
  const std::string store_path = JoinPath(data_dir, kBackupStoreName);
  struct stat st;
  if (::stat(store_path.c_str(), &st) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(store_path,
                     " exists: restore only into a data dir without a job store "
                     "(move the old one away first)"));
  }
  RestoreSummary summary;
  const emar::v1::BackupFile* store_file = nullptr;
  for (const emar::v1::BackupFile& f : manifest.files()) {
    if (f.path() == kBackupStoreName) {
      store_file = &f;
      continue;
    }
    const std::string dst = JoinPath(data_dir, f.path());
    RETURN_IF_ERROR(MakeDirs(DirName(dst)));
    RETURN_IF_ERROR(
        CopyVerified(JoinPath(backup_dir, f.path()), dst, f, JoinPath(backup_dir, f.path())));
    ++summary.blobs;
    summary.bytes += f.size_bytes();
  }
  RETURN_IF_ERROR(MakeDirs(data_dir));
  RETURN_IF_ERROR(CopyVerified(JoinPath(backup_dir, kBackupStoreName), store_path, *store_file,
                               JoinPath(backup_dir, kBackupStoreName)));
  summary.bytes += store_file->size_bytes();
  // Opening it proves it is a job store this coordinator reads (and migrates it if older).
  ASSIGN_OR_RETURN(std::unique_ptr<JobStore> store, JobStore::Open(store_path));
  ASSIGN_OR_RETURN(auto counts, store->CountJobsByState());
  for (const auto& [state, n] : counts) summary.jobs += n;
  return summary;
}

}  // namespace emar
