// gRPC adapter for emar.v1.WorkerService over a Coordinator. Lease is a long-poll answered from
// the coordinator's callback, so a waiting worker parks no server thread.
#ifndef EMAR_SERVER_WORKER_SERVICE_H_
#define EMAR_SERVER_WORKER_SERVICE_H_

#include "emar/v1/service.grpc.pb.h"
#include "server/auth.h"
#include "server/coordinator.h"

namespace emar {

// `coordinator` must outlive the service.
class WorkerServiceImpl final : public emar::v1::WorkerService::CallbackService {
 public:
  // `auth` (may be null: no authentication) decides who calls.
  explicit WorkerServiceImpl(Coordinator* coordinator, const Authenticator* auth = nullptr)
      : coordinator_(coordinator), auth_(auth) {}

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
  absl::Status CheckCaller(const grpc::CallbackServerContext& ctx) const {
    return auth_ == nullptr ? absl::OkStatus() : auth_->Authorize(ctx, Api::kWorker).status();
  }

  Coordinator* const coordinator_;
  const Authenticator* const auth_;
};

}  // namespace emar

#endif  // EMAR_SERVER_WORKER_SERVICE_H_
