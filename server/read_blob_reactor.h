// The server side of WorkerService.ReadBlob: streams a range of a stored blob in 1 MiB chunks,
// reading each from disk when the previous one is sent (memory stays one chunk per reader). The
// caller has checked that the worker may read the blob (BlobAccess::CheckRead).
//
//   return NewReadBlobReactor(&blob_access.bytes(), req->range());  // deletes itself when done
#ifndef EMAR_SERVER_READ_BLOB_REACTOR_H_
#define EMAR_SERVER_READ_BLOB_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include "emar/v1/service.pb.h"
#include "server/blob_store.h"

namespace emar {

// NOT_FOUND for an unknown blob, OUT_OF_RANGE for a range outside it. An empty range sends one
// empty chunk.
grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>* NewReadBlobReactor(
    BlobStore* blobs, const emar::v1::BlobRange& range);

}  // namespace emar

#endif  // EMAR_SERVER_READ_BLOB_REACTOR_H_
