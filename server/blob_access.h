// The one owner of uploaded inputs: their bytes (BlobStore), who may use them (ownership rows in
// the JobStore), the store quota, lease-checked reads by workers, and deleting the blobs no job
// reads any more. The upload and blob-read reactors take this, never the coordinator.
//
//   BlobAccess blobs(&store, options, [&](const std::string& lease) { return broker.Leased(lease);
//   }); if (!blobs.HasFor(sha, who)) { RETURN_IF_ERROR(blobs.CheckQuota(size)); ... } {
//   BlobAccess::Pin pin(&blobs); plan and store a job reading blobs; }  // no GC meanwhile
//   ASSIGN_OR_RETURN(BlobsFreed freed, blobs.DeleteJob(job_id));
//
// Thread-safe. Its lock only orders blob deletion against jobs being planned: a blob is never
// deleted between a plan's check and its job's row.
#ifndef EMAR_SERVER_BLOB_ACCESS_H_
#define EMAR_SERVER_BLOB_ACCESS_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/blob_store.h"
#include "server/job_store.h"
#include "server/principal.h"

namespace emar {

struct BlobAccessOptions {
  // Bytes the blob store may hold; an upload that would pass it is refused. 0: no limit.
  int64_t max_store_bytes = 0;
  // Workers must name a current lease of a shard reading the blob to read it.
  bool reads_need_lease = false;
};

// Blob files removed and the bytes they held.
struct BlobsFreed {
  int removed = 0;
  int64_t bytes = 0;
};

class BlobAccess {
 public:
  // The task of a current lease, or nullopt (for lease-checked reads).
  using LeasedTaskLookup =
      std::function<std::optional<emar::v1::ShardTask>(const std::string& lease_id)>;

  // `blobs` and `store` must outlive this.
  BlobAccess(BlobStore* blobs, JobStore* store, BlobAccessOptions options,
             LeasedTaskLookup leased_task);

  BlobStore& bytes() { return *blobs_; }
  int64_t used_bytes() const { return blobs_->used_bytes(); }

  // --- uploads ---
  // Is the blob stored and usable by `who` (no upload needed)? Another principal's upload is
  // not: `who` must upload (and so prove it has) the content itself.
  bool HasFor(const std::string& sha256, const Principal& who);
  std::vector<std::string> FindMissing(const std::vector<std::string>& sha256,
                                       const Principal& who);
  // RESOURCE_EXHAUSTED when `size` more bytes would pass --max-store-gb, counting the bytes
  // reserved by uploads in progress.
  absl::Status CheckQuota(int64_t size) const;
  // Bytes of the store reserved for one upload from its start until it is stored or abandoned:
  // concurrent uploads cannot together pass --max-store-gb. Released when it goes (a committed
  // blob is counted by the store by then).
  class Reservation {
   public:
    Reservation() = default;
    Reservation(BlobAccess* access, int64_t bytes) : access_(access), bytes_(bytes) {}
    Reservation(Reservation&& o) noexcept
        : access_(std::exchange(o.access_, nullptr)), bytes_(o.bytes_) {}
    Reservation& operator=(Reservation&& o) noexcept {
      Release();
      access_ = std::exchange(o.access_, nullptr);
      bytes_ = o.bytes_;
      return *this;
    }
    ~Reservation() { Release(); }
    void Release();

   private:
    BlobAccess* access_ = nullptr;
    int64_t bytes_ = 0;
  };
  // Checks the quota and reserves `size` bytes in one step (RESOURCE_EXHAUSTED as CheckQuota).
  absl::StatusOr<Reservation> ReserveQuota(int64_t size);
  // `who` uploaded the verified blob (it may now use it in jobs).
  absl::Status RecordUpload(const std::string& sha256, const Principal& who);

  // --- jobs ---
  // FAILED_PRECONDITION naming the first input of `request` that `who` has not uploaded (the
  // same answer whether the blob is absent or another principal's). Admins may use any blob.
  absl::Status CheckInputs(const emar::v1::CreateJobRequest& request, const Principal& who);
  // Held from checking a job's inputs to storing its row: no blob file is deleted meanwhile.
  class Pin {
   public:
    explicit Pin(BlobAccess* access) : lock_(&access->gc_mu_) {}

   private:
    absl::ReaderMutexLock lock_;
  };

  // --- workers ---
  // With reads_need_lease: PERMISSION_DENIED unless `lease_id` is a current lease of a shard
  // that reads `range`: within its outputs range, or within its references range (the whole
  // references file, which the shard needs to join its rows).
  absl::Status CheckRead(const std::string& lease_id, const emar::v1::BlobRange& range);

  // --- garbage collection ---
  // Deletes the job's rows (JobStore::DeleteJob) and the blob files no remaining job reads.
  absl::StatusOr<BlobsFreed> DeleteJob(const std::string& job_id);
  // Deletes the uploads no job reads that were stored before `cutoff`.
  absl::StatusOr<BlobsFreed> RemoveUnreadBefore(absl::Time cutoff);

 private:
  BlobsFreed RemoveFiles(const std::vector<std::string>& shas)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(gc_mu_);

  // --- constant after construction ---
  BlobStore* const blobs_;
  JobStore* const store_;
  const BlobAccessOptions options_;
  const LeasedTaskLookup leased_task_;

  // Shared while a job is planned and stored (Pin), exclusive while blob files are deleted.
  absl::Mutex gc_mu_;
  // Bytes reserved by uploads in progress (Reservation).
  mutable absl::Mutex quota_mu_;
  int64_t reserved_bytes_ ABSL_GUARDED_BY(quota_mu_) = 0;
  absl::Status CheckQuotaLocked(int64_t size) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(quota_mu_);
};

}  // namespace emar

#endif  // EMAR_SERVER_BLOB_ACCESS_H_
