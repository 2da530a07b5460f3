// gRPC adapter for emar.v1.WorkerService over a Coordinator. Lease is a long-poll answered from
// the coordinator's callback, so a waiting worker parks no server thread.
#ifndef EMAR_SERVER_WORKER_SERVICE_H_
#define EMAR_SERVER_WORKER_SERVICE_H_

#include "emar/v1/service.grpc.pb.h"
#include "server/coordinator.h"

namespace emar {

// `coordinator` must outlive the service.
class WorkerServiceImpl final : public emar::v1::WorkerService::CallbackService {
 public:
  explicit WorkerServiceImpl(Coordinator* coordinator) : coordinator_(coordinator) {}

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
  Coordinator* const coordinator_;
};

}  // namespace emar

#endif  // EMAR_SERVER_WORKER_SERVICE_H_
