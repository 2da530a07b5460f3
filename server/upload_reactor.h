// The server side of EvaluationService.UploadBlob: a client-streaming upload into the blob store
// (header in the first message, chunks in any), visible only once size and digest are verified.
#ifndef EMAR_SERVER_UPLOAD_REACTOR_H_
#define EMAR_SERVER_UPLOAD_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>

#include "emar/v1/service.grpc.pb.h"
#include "server/coordinator.h"

namespace emar {

// A reactor for one UploadBlob call; it deletes itself when done. Blobs larger than
// `max_blob_bytes` are refused with RESOURCE_EXHAUSTED.
grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* NewUploadReactor(
    Coordinator* coordinator, int64_t max_blob_bytes, emar::v1::UploadBlobResponse* resp);

}  // namespace emar

#endif  // EMAR_SERVER_UPLOAD_REACTOR_H_
