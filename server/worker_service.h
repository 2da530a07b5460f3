// gRPC adapter for emar.v1.WorkerService over a Coordinator. Lease is a long-poll answered from
// the coordinator's callback, so a waiting worker parks no server thread.
#ifndef EMAR_SERVER_WORKER_SERVICE_H_
#define EMAR_SERVER_WORKER_SERVICE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "emar/v1/service.grpc.pb.h"
#include "server/auth.h"
#include "server/coordinator.h"

namespace emar {

// `coordinator` must outlive the service.
class WorkerServiceImpl final : public emar::v1::WorkerService::CallbackService {
 public:
  // `auth` (may be null: no authentication) decides who calls.
  explicit WorkerServiceImpl(Coordinator* coordinator, const Authenticator* auth = nullptr);
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
  absl::Status CheckCaller(const grpc::CallbackServerContext& ctx) const {
    return auth_ == nullptr ? absl::OkStatus() : auth_->Authorize(ctx, Api::kWorker).status();
  }

  // Runs `fn` on one of the threads that store results.
  void RunOffGrpcThreads(std::function<void()> fn);
  void CompleterLoop();

  Coordinator* const coordinator_;
  const Authenticator* const auth_;
  // Complete blocks until its result is durable (a group commit, one fsync for every result
  // waiting). gRPC has only a few callback threads, so a result is stored on threads of our own:
  // many results wait for the same commit, and leases and heartbeats are answered meanwhile.
  absl::Mutex completer_mu_;
  std::deque<std::function<void()>> completer_queue_ ABSL_GUARDED_BY(completer_mu_);
  bool completer_stop_ ABSL_GUARDED_BY(completer_mu_) = false;
  std::vector<std::thread> completers_;
};

}  // namespace emar

#endif  // EMAR_SERVER_WORKER_SERVICE_H_
