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
  // An upload that receives no message for this long ends with DEADLINE_EXCEEDED (naming
  // --upload-idle-seconds) and its partial file is removed. InfiniteDuration: never.
  absl::Duration idle_timeout = absl::Seconds(60);
};

struct UploadCall;  // one upload's state, shared by its reactor and the limiter (.cc)

// The uploads in progress into one server: admits at most `max_concurrent` of them and ends idle
// ones from one periodic scan (no thread or timer per upload). Thread-safe.
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

  // For the upload reactor: takes a slot for `call` (false when all are taken) and frees it
  // (idempotent).
  bool TryAdmit(std::shared_ptr<UploadCall> call);
  void Release(const UploadCall* call);

 private:
  // Ends the uploads idle for longer than the timeout.
  void Scan();

  // --- constant after construction ---
  const UploadLimits limits_;

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;  // taken after an UploadCall's mutex, never before
  absl::flat_hash_map<const UploadCall*, std::shared_ptr<UploadCall>> active_ ABSL_GUARDED_BY(mu_);

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
