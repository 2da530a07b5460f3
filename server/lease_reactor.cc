#include "server/lease_reactor.h"

#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"

namespace emar {
namespace {

using grpc::ServerUnaryReactor;

// Who finishes a long-poll first, the coordinator's answer or the client's cancellation, wins;
// the state outlives the reactor because the core's callback may run after it is gone.
struct LeaseCall {
  absl::Mutex mu;
  bool finished ABSL_GUARDED_BY(mu) = false;
  ServerUnaryReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  emar::v1::LeaseResponse* resp ABSL_GUARDED_BY(mu) = nullptr;
};

class LeaseReactor final : public ServerUnaryReactor {
 public:
  LeaseReactor(WorkerCore* core, const emar::v1::LeaseRequest* req, emar::v1::LeaseResponse* resp)
      : core_(core), call_(std::make_shared<LeaseCall>()) {
    {
      absl::MutexLock lock(&call_->mu);
      call_->reactor = this;
      call_->resp = resp;
    }
    handle_ =
        core_->LeaseAsync(req->worker_id(), absl::Milliseconds(req->wait_ms()),
                          [call = call_](std::optional<emar::v1::ShardTask> task) {
                            absl::MutexLock lock(&call->mu);
                            if (call->finished)
                              return;  // cancelled meanwhile: the lease will expire and requeue
                            call->finished = true;
                            if (task) *call->resp->mutable_task() = std::move(*task);
                            call->reactor->Finish(grpc::Status::OK);
                          });
  }
  void OnCancel() override {
    core_->CancelLeaseWait(handle_);
    absl::MutexLock lock(&call_->mu);
    if (call_->finished) return;
    call_->finished = true;
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "lease wait cancelled"));
  }
  void OnDone() override { delete this; }

 private:
  WorkerCore* const core_;
  std::shared_ptr<LeaseCall> call_;
  uint64_t handle_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* NewLeaseReactor(WorkerCore* core, const emar::v1::LeaseRequest* req,
                                          emar::v1::LeaseResponse* resp) {
  return new LeaseReactor(core, req, resp);
}

}  // namespace emar
