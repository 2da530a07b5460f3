#include "server/worker_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"

namespace emar {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// Who finishes a long-poll first, the coordinator's answer or the client's cancellation, wins;
// the state outlives the reactor because the coordinator's callback may run after it is gone.
struct LeaseCall {
  absl::Mutex mu;
  bool finished ABSL_GUARDED_BY(mu) = false;
  ServerUnaryReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
  emar::v1::LeaseResponse* resp ABSL_GUARDED_BY(mu) = nullptr;
};

class LeaseReactor final : public ServerUnaryReactor {
 public:
  LeaseReactor(Coordinator* c, const emar::v1::LeaseRequest* req, emar::v1::LeaseResponse* resp)
      : coordinator_(c), call_(std::make_shared<LeaseCall>()) {
    {
      absl::MutexLock lock(&call_->mu);
      call_->reactor = this;
      call_->resp = resp;
    }
    handle_ = coordinator_->LeaseAsync(
        req->worker_id(), absl::Milliseconds(req->wait_ms()),
        [call = call_](std::optional<emar::v1::ShardTask> task) {
          absl::MutexLock lock(&call->mu);
          if (call->finished) return;  // cancelled meanwhile: the lease will expire and requeue
          call->finished = true;
          if (task) *call->resp->mutable_task() = std::move(*task);
          call->reactor->Finish(grpc::Status::OK);
        });
  }
  void OnCancel() override {
    coordinator_->CancelLeaseWait(handle_);
    absl::MutexLock lock(&call_->mu);
    if (call_->finished) return;
    call_->finished = true;
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "lease wait cancelled"));
  }
  void OnDone() override { delete this; }

 private:
  Coordinator* const coordinator_;
  std::shared_ptr<LeaseCall> call_;
  uint64_t handle_ = 0;
};

// Streams a blob range in 1 MiB chunks, reading each from disk when the previous one is sent.
class ReadBlobReactor final : public grpc::ServerWriteReactor<emar::v1::ReadBlobResponse> {
 public:
  ReadBlobReactor(Coordinator* c, const emar::v1::BlobRange& range, const absl::Status& allowed)
      : coordinator_(c), range_(range) {
    if (!allowed.ok()) {
      Finish(ToGrpcStatus(allowed));
      return;
    }
    auto size = coordinator_->blobs().Size(range.sha256());
    if (!size.ok()) {
      Finish(ToGrpcStatus(size.status()));
      return;
    }
    // Checked without overflow: offset + length may not fit in 64 bits.
    if (range.offset() < 0 || range.offset() > *size ||
        (range.length() >= 0 && range.length() > *size - range.offset())) {
      Finish(ToGrpcStatus(absl::OutOfRangeError(
          absl::StrCat("range at offset ", range.offset(), " of length ", range.length(),
                       " is outside blob ", range.sha256(), " of ", *size, " bytes"))));
      return;
    }
    const int64_t end = range.length() < 0 ? *size : range.offset() + range.length();
    next_ = range.offset();
    end_ = end;
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "reader went away"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (next_ >= end_ && sent_any_) {
      Finish(grpc::Status::OK);
      return;
    }
    const int64_t len = std::min<int64_t>(kChunk, end_ - next_);
    auto data = coordinator_->blobs().Read(range_.sha256(), next_, len);
    if (!data.ok()) {
      Finish(ToGrpcStatus(data.status()));
      return;
    }
    next_ += len;
    sent_any_ = true;
    msg_.set_chunk(std::move(*data));
    StartWrite(&msg_);
  }

  static constexpr int64_t kChunk = 1 << 20;
  Coordinator* const coordinator_;
  const emar::v1::BlobRange range_;
  emar::v1::ReadBlobResponse msg_;
  int64_t next_ = 0, end_ = 0;
  bool sent_any_ = false;
};

// Results stored at once; more wait in line (each holds a gRPC call, not a thread).
constexpr int kCompleterThreads = 16;

}  // namespace

WorkerServiceImpl::WorkerServiceImpl(Coordinator* coordinator, const Authenticator* auth)
    : coordinator_(coordinator), auth_(auth) {
  for (int i = 0; i < kCompleterThreads; ++i) completers_.emplace_back([this] { CompleterLoop(); });
}

WorkerServiceImpl::~WorkerServiceImpl() {
  {
    absl::MutexLock lock(&completer_mu_);
    completer_stop_ = true;
  }
  for (std::thread& t : completers_) t.join();
}

void WorkerServiceImpl::RunOffGrpcThreads(std::function<void()> fn) {
  absl::MutexLock lock(&completer_mu_);
  completer_queue_.push_back(std::move(fn));
}

void WorkerServiceImpl::CompleterLoop() {
  while (true) {
    std::function<void()> fn;
    {
      absl::MutexLock lock(&completer_mu_);
      completer_mu_.Await(absl::Condition(
          +[](WorkerServiceImpl* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->completer_mu_) {
            return s->completer_stop_ || !s->completer_queue_.empty();
          },
          this));
      if (completer_queue_.empty()) return;  // stopping, and nothing left to store
      fn = std::move(completer_queue_.front());
      completer_queue_.pop_front();
    }
    fn();
  }
}

ServerUnaryReactor* WorkerServiceImpl::Lease(CallbackServerContext* ctx,
                                             const emar::v1::LeaseRequest* req,
                                             emar::v1::LeaseResponse* resp) {
  if (absl::Status s = CheckCaller(*ctx); !s.ok()) return FinishUnary(ctx, s);
  return new LeaseReactor(coordinator_, req, resp);
}

ServerUnaryReactor* WorkerServiceImpl::Heartbeat(CallbackServerContext* ctx,
                                                 const emar::v1::HeartbeatRequest* req,
                                                 emar::v1::HeartbeatResponse* resp) {
  if (absl::Status s = CheckCaller(*ctx); !s.ok()) return FinishUnary(ctx, s);
  auto r = coordinator_->Heartbeat(*req);
  if (r.ok()) *resp = std::move(*r);
  return FinishUnary(ctx, r.status());
}

ServerUnaryReactor* WorkerServiceImpl::Complete(CallbackServerContext* ctx,
                                                const emar::v1::CompleteRequest* req,
                                                emar::v1::CompleteResponse* resp) {
  if (absl::Status s = CheckCaller(*ctx); !s.ok()) return FinishUnary(ctx, s);
  // The request and response live until Finish.
  ServerUnaryReactor* reactor = ctx->DefaultReactor();
  RunOffGrpcThreads([this, req, resp, reactor] {
    auto r = coordinator_->Complete(*req);
    if (r.ok()) *resp = std::move(*r);
    reactor->Finish(ToGrpcStatus(r.status()));
  });
  return reactor;
}

grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>* WorkerServiceImpl::ReadBlob(
    CallbackServerContext* ctx, const emar::v1::ReadBlobRequest* req) {
  absl::Status allowed = CheckCaller(*ctx);
  if (allowed.ok()) allowed = coordinator_->CheckBlobRead(req->lease_id(), req->range().sha256());
  return new ReadBlobReactor(coordinator_, req->range(), allowed);
}

}  // namespace emar
