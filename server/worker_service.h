// gRPC adapter for emar.v1.WorkerService over a WorkerCore (the Coordinator) and BlobAccess.
// Lease is a long-poll answered from the core's callback, so a waiting worker parks no server
// thread. Every handler admits its call through one CallGuard (server/call_guard.h).
#ifndef EMAR_SERVER_WORKER_SERVICE_H_
#define EMAR_SERVER_WORKER_SERVICE_H_

#include "common/work_queue.h"
#include "emar/v1/service.grpc.pb.h"
#include "server/auth.h"
#include "server/blob_access.h"
#include "server/call_guard.h"
#include "server/service_cores.h"

namespace emar {

// `core` and `blobs` must outlive the service.
class WorkerServiceImpl final : public emar::v1::WorkerService::CallbackService {
 public:
  // `auth` (may be null: no authentication) decides who calls.
  WorkerServiceImpl(WorkerCore* core, BlobAccess* blobs, const Authenticator* auth = nullptr);
  // Runs the results still queued, then stops the threads that store them.
  ~WorkerServiceImpl() override;

  grpc::ServerUnaryReactor* Lease(grpc::CallbackServerContext* ctx,
                                  const emar::v1::LeaseRequest* req,
                                  emar::v1::LeaseResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const emar::v1::HeartbeatRequest* req,
                                      emar::v1::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* ctx,
                                     const emar::v1::CompleteRequest* req,
                                     emar::v1::CompleteResponse* resp) override;
  grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>* ReadBlob(
      grpc::CallbackServerContext* ctx, const emar::v1::ReadBlobRequest* req) override;

 private:
  WorkerCore* const core_;
  BlobAccess* const blobs_;
  const CallGuard guard_;  // no size limit: results are as large as the transport allows
  // Complete blocks until its result is durable (a group commit, one fsync for every result
  // waiting). gRPC has only a few callback threads, so a result is stored on threads of our own:
  // many results wait for the same commit, and leases and heartbeats are answered meanwhile.
  WorkQueue completers_;
};

}  // namespace emar

#endif  // EMAR_SERVER_WORKER_SERVICE_H_
