#include "server/admin_service.h"

#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/grpc_status.h"
#include "server/job_store_backup.h"

namespace emar {
namespace {

// Takes the snapshot on a thread of its own (copying a large store takes a while and must not
// hold a gRPC reaction thread), then streams each file in 1 MiB chunks, reading the next chunk
// when the last one is sent, and the manifest last.
class BackupReactor final : public grpc::ServerWriteReactor<emar::v1::BackupChunk> {
 public:
  BackupReactor(JobStore* store, const BlobStore* blobs, std::string staging_dir,
                std::atomic<bool>* running)
      : running_(running) {
    snapshotter_ = std::thread([this, store, blobs, staging_dir = std::move(staging_dir)] {
      auto snap = BackupSnapshot::Take(store, *blobs, staging_dir);
      if (!snap.ok()) {
        Notice(LogLevel::kError, "backup_failed",
               absl::StrCat("emar-coordinator: backup failed: ", snap.status().message()),
               {{"error", std::string(snap.status().message())},
                {"duration_ms", DurationMs(absl::Now() - started_)}});
        Finish(ToGrpcStatus(absl::Status(snap.status().code(), "backup snapshot failed")));
        return;
      }
      snap_ = std::move(*snap);
      LogEvent("backup_snapshot", {{"files", static_cast<int64_t>(snap_->files().size())},
                                   {"duration_ms", DurationMs(absl::Now() - started_)}});
      SendNext();
    });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the backup's reader went away"));
    } else if (manifest_sent_) {
      LogEvent("backup_finished", {{"files", static_cast<int64_t>(snap_->files().size())},
                                   {"duration_ms", DurationMs(absl::Now() - started_)}});
      Finish(grpc::Status::OK);
    } else {
      SendNext();
    }
  }
  void OnDone() override {
    if (file_ != nullptr) std::fclose(file_);
    snap_.reset();  // removes the staging dir before the next backup may start
    if (snapshotter_.get_id() == std::this_thread::get_id()) {
      snapshotter_.detach();
    } else {
      snapshotter_.join();
    }
    running_->store(false);
    delete this;
  }

 private:
  void SendNext() {
    msg_.Clear();
    const std::vector<StagedFile>& files = snap_->files();
    while (next_file_ < files.size()) {
      const StagedFile& f = files[next_file_];
      if (file_ == nullptr) {
        file_ = std::fopen(f.staged_path.c_str(), "rb");
        if (file_ == nullptr) {
          Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                              absl::StrCat("cannot read staged ", f.entry.path())));
          return;
        }
        *msg_.mutable_file() = f.entry;
        StartWrite(&msg_);
        return;
      }
      buffer_.resize(kChunk);
      const size_t n = std::fread(buffer_.data(), 1, kChunk, file_);
      if (n > 0) {
        buffer_.resize(n);
        msg_.set_chunk(std::move(buffer_));
        StartWrite(&msg_);
        return;
      }
      const bool failed = std::ferror(file_) != 0;
      std::fclose(file_);
      file_ = nullptr;
      if (failed) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                            absl::StrCat("read error in staged ", f.entry.path())));
        return;
      }
      ++next_file_;
    }
    *msg_.mutable_manifest() = snap_->manifest();
    manifest_sent_ = true;
    StartWrite(&msg_);
  }

  static constexpr size_t kChunk = 1 << 20;
  std::atomic<bool>* const running_;
  const absl::Time started_ = absl::Now();  // backup events carry the time since
  std::thread snapshotter_;
  std::unique_ptr<BackupSnapshot> snap_;
  size_t next_file_ = 0;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  emar::v1::BackupChunk msg_;
  bool manifest_sent_ = false;
};

}  // namespace

grpc::ServerWriteReactor<emar::v1::BackupChunk>* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* ctx, const emar::v1::BackupRequest* req) {
  using Refused = grpc::ServerWriteReactor<emar::v1::BackupChunk>;
  const absl::StatusOr<Principal> who = guard_.Admit(*ctx, req);
  if (!who.ok()) return RefusedStream<Refused>(who.status());
  if (!who->admin()) {
    return RefusedStream<Refused>(absl::PermissionDeniedError(absl::StrCat(
        "backups need an admin token; '", who->name, "' has the ", RoleName(who->role), " role")));
  }
  if (backup_running_.exchange(true)) {
    return RefusedStream<Refused>(
        absl::AbortedError("another backup is in progress; try again when it has finished"));
  }
  return new BackupReactor(store_, blobs_, staging_dir_, &backup_running_);
}

}  // namespace emar
