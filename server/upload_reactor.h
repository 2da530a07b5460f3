// The server side of EvaluationService.UploadBlob: a client-streaming upload into the blob store
// (header in the first message, chunks in any), visible only once size and digest are verified.
// Uploads are bounded in number and in idle time by the UploadLimiter serving their coordinator:
//
//   UploadLimiter uploads({.max_concurrent = 64, .idle_timeout = absl::Seconds(60)});
//   ... serve; EvaluationServiceImpl::UploadBlob calls NewUploadReactor(blobs, &uploads, ...)
//   server->Shutdown(grace);  // then `uploads` may go
//
// Whatever ends an upload (commit, error, cancellation, idle timeout, refusal) removes its
// temporary file and frees its slot before the client sees the status.
#ifndef EMAR_SERVER_UPLOAD_REACTOR_H_
#define EMAR_SERVER_UPLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/periodic_task.h"
#include "emar/v1/service.grpc.pb.h"
#include "server/blob_access.h"
#include "server/principal.h"

namespace emar {

struct UploadLimits {
  // Uploads in progress at once; one more is refused at once with RESOURCE_EXHAUSTED naming the
  // limit and --max-uploads.
  int max_concurrent = 64;
  // An upload that receives no message for this long, or fewer than kMinUploadProgressBytes in
  // any such span (a trickle holding its slot), ends with DEADLINE_EXCEEDED (naming
  // --upload-idle-seconds) and its partial file is removed. InfiniteDuration: never.
  absl::Duration idle_timeout = absl::Seconds(60);
};

// What an upload must send per --upload-idle-seconds to keep its slot: 1 KiB a minute (by
// default) is far below any real link, and far above a slot-holding trickle.
inline constexpr int64_t kMinUploadProgressBytes = 1024;

struct UploadCall;  // one upload's state, shared by its reactor and the limiter (.cc)

// The uploads in progress into one server: admits at most `max_concurrent` of them and ends idle
// ones from one periodic scan (no thread or timer per upload). Slots are shared fairly: when all
// are taken, a principal holding fewer than its share (max_concurrent / the principals holding
// or asking for slots) takes the oldest slot of the principal holding the most, if that one
// holds more than its share. Thread-safe.
class UploadLimiter {
 public:
  // Destroy the limiter after the server serving uploads has shut down (no reactor alive).
  explicit UploadLimiter(UploadLimits limits);
  ~UploadLimiter();
  UploadLimiter(const UploadLimiter&) = delete;
  UploadLimiter& operator=(const UploadLimiter&) = delete;

  const UploadLimits& limits() const { return limits_; }
  // Uploads holding a slot now.
  int in_progress() const;

  // For the upload reactor: takes a slot for `call` of `principal` (false when all are taken
  // and none can be reclaimed for it), and frees it (idempotent). A slot reclaimed from another
  // principal's upload is put in `*preempted`: the caller ends that upload once it no longer
  // holds its own call's mutex.
  bool TryAdmit(std::shared_ptr<UploadCall> call, const std::string& principal,
                std::shared_ptr<UploadCall>* preempted);
  void Release(const UploadCall* call);

 private:
  // Ends the uploads idle for longer than the timeout.
  void Scan();

  // --- constant after construction ---
  const UploadLimits limits_;

  // --- protected by mu_ ---
  struct Slot {
    std::shared_ptr<UploadCall> call;
    std::string principal;
    uint64_t admitted = 0;  // order of admission
  };
  mutable absl::Mutex mu_;  // taken after an UploadCall's mutex, never before
  absl::flat_hash_map<const UploadCall*, Slot> active_ ABSL_GUARDED_BY(mu_);
  uint64_t admissions_ ABSL_GUARDED_BY(mu_) = 0;

  std::unique_ptr<PeriodicTask> scanner_;  // last: stopped first
};

// A reactor for one UploadBlob call; it deletes itself when done. Blobs larger than
// `max_blob_bytes` are refused with RESOURCE_EXHAUSTED. A null `limiter` leaves uploads
// unlimited in number and time.
grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* NewUploadReactor(
    BlobAccess* blobs, UploadLimiter* limiter, int64_t max_blob_bytes, int64_t max_message_bytes,
    const Principal& who, emar::v1::UploadBlobResponse* resp);

}  // namespace emar

#endif  // EMAR_SERVER_UPLOAD_REACTOR_H_
