#include "server/blob_access.h"

#include <iostream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace emar {

BlobAccess::BlobAccess(BlobStore* blobs, JobStore* store, BlobAccessOptions options,
                       LeasedTaskLookup leased_task)
    : blobs_(blobs), store_(store), options_(options), leased_task_(std::move(leased_task)) {}

bool BlobAccess::HasFor(const std::string& sha256, const Principal& who) {
  if (!blobs_->Has(sha256)) return false;
  if (who.admin()) return true;
  absl::StatusOr<bool> owns = store_->OwnsBlob(who.name, sha256);
  return owns.ok() && *owns;
}

std::vector<std::string> BlobAccess::FindMissing(const std::vector<std::string>& sha256,
                                                 const Principal& who) {
  std::vector<std::string> missing;
  for (const std::string& s : sha256) {
    if (!HasFor(s, who)) missing.push_back(s);
  }
  return missing;
}

absl::Status BlobAccess::CheckQuota(int64_t size) const {
  absl::MutexLock lock(&quota_mu_);
  return CheckQuotaLocked(size);
}

absl::Status BlobAccess::CheckQuotaLocked(int64_t size) const {
  if (options_.max_store_bytes <= 0) return absl::OkStatus();
  const int64_t used = blobs_->used_bytes() + reserved_bytes_;
  if (size <= options_.max_store_bytes - used) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "the store is full: it holds %.3f GB of its %.3f GB limit (--max-store-gb, uploads in "
      "progress included) and this upload needs %.3f GB more; delete finished jobs (emarctl "
      "delete JOB_ID) or wait for retention",
      used / 1e9, options_.max_store_bytes / 1e9, size / 1e9));
}

absl::StatusOr<BlobAccess::Reservation> BlobAccess::ReserveQuota(int64_t size) {
  absl::MutexLock lock(&quota_mu_);
  RETURN_IF_ERROR(CheckQuotaLocked(size));
  reserved_bytes_ += size;
  return Reservation(this, size);
}

void BlobAccess::Reservation::Release() {
  if (access_ == nullptr) return;
  absl::MutexLock lock(&access_->quota_mu_);
  access_->reserved_bytes_ -= bytes_;
  access_ = nullptr;
}

absl::Status BlobAccess::RecordUpload(const std::string& sha256, const Principal& who) {
  if (who.name.empty()) return absl::OkStatus();  // no --tokens: nothing to separate
  return store_->AddBlobOwner(sha256, who.name);
}

absl::Status BlobAccess::CheckInputs(const emar::v1::CreateJobRequest& request,
                                     const Principal& who) {
  if (who.admin()) return absl::OkStatus();
  for (const auto& [path, sha] : request.input_digests()) {
    if (!HasFor(sha, who)) {
      return absl::FailedPreconditionError(
          absl::StrCat("input '", path, "': blob ", sha, " was not uploaded"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Whether `want` lies within `allowed` (same blob; a negative length runs to the blob's end).
bool Within(const emar::v1::BlobRange& want, const emar::v1::BlobRange& allowed) {
  if (want.sha256() != allowed.sha256() || want.offset() < allowed.offset()) return false;
  if (allowed.length() < 0) return true;
  // Without overflow: offsets and lengths come from the caller.
  return want.length() >= 0 && want.offset() - allowed.offset() <= allowed.length() &&
         want.length() <= allowed.length() - (want.offset() - allowed.offset());
}

std::string Describe(const emar::v1::BlobRange& r) {
  if (r.length() < 0) return absl::StrCat("bytes ", r.offset(), " to the end");
  // The caller's offset and length: their end may not fit in an int64 (UBSan found the sum).
  if (r.offset() > 0 && r.length() > std::numeric_limits<int64_t>::max() - r.offset()) {
    return absl::StrCat(r.length(), " bytes from byte ", r.offset());
  }
  return absl::StrCat("bytes ", r.offset(), "..", r.offset() + r.length());
}

}  // namespace

absl::Status BlobAccess::CheckRead(const std::string& lease_id, const emar::v1::BlobRange& range) {
  if (!options_.reads_need_lease) return absl::OkStatus();
  const std::string& sha256 = range.sha256();
  const std::optional<emar::v1::ShardTask> task = leased_task_(lease_id);
  if (!task) {
    return absl::PermissionDeniedError(absl::StrCat(
        "reading blob ", sha256, " needs a current lease of a shard that reads it; lease '",
        lease_id, "' is not current"));
  }
  if (task->references().sha256() != sha256 && task->outputs().sha256() != sha256) {
    return absl::PermissionDeniedError(absl::StrCat("lease '", lease_id, "' (shard ",
                                                    task->shard_id(), " of ", task->job_id(),
                                                    ") does not read blob ", sha256));
  }
  if (!Within(range, task->outputs()) && !Within(range, task->references())) {
    const emar::v1::BlobRange& leased =
        task->outputs().sha256() == sha256 ? task->outputs() : task->references();
    return absl::PermissionDeniedError(
        absl::StrCat("lease '", lease_id, "' (shard ", task->shard_id(), " of ", task->job_id(),
                     ") reads ", Describe(leased), " of blob ", sha256, ", not ", Describe(range)));
  }
  return absl::OkStatus();
}

BlobsFreed BlobAccess::RemoveFiles(const std::vector<std::string>& shas) {
  BlobsFreed freed;
  for (const std::string& sha : shas) {
    absl::StatusOr<int64_t> bytes = blobs_->Remove(sha);
    if (!bytes.ok()) {
      std::cerr << "emar-coordinator: removing blob " << sha << ": " << bytes.status() << std::endl;
      continue;
    }
    freed.removed += *bytes > 0;
    freed.bytes += *bytes;
  }
  return freed;
}

absl::StatusOr<BlobsFreed> BlobAccess::DeleteJob(const std::string& job_id) {
  absl::WriterMutexLock gc_lock(&gc_mu_);
  ASSIGN_OR_RETURN(std::vector<std::string> unread, store_->DeleteJob(job_id));
  return RemoveFiles(unread);
}

absl::StatusOr<BlobsFreed> BlobAccess::RemoveUnreadBefore(absl::Time cutoff) {
  absl::WriterMutexLock gc_lock(&gc_mu_);
  ASSIGN_OR_RETURN(std::vector<BlobStore::BlobInfo> blobs, blobs_->List());
  std::vector<std::string> old_blobs;
  for (const BlobStore::BlobInfo& b : blobs) {
    if (b.modified < cutoff) old_blobs.push_back(b.sha256);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> unread, store_->ForgetUnreferencedBlobs(old_blobs));
  return RemoveFiles(unread);
}

}  // namespace emar
