#include "server/worker_service.h"

#include "common/grpc_status.h"
#include "server/lease_reactor.h"
#include "server/read_blob_reactor.h"

namespace emar {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// Results stored at once; more wait in line (each holds a gRPC call, not a thread).
constexpr int kCompleterThreads = 16;

}  // namespace

WorkerServiceImpl::WorkerServiceImpl(WorkerCore* core, BlobAccess* blobs, const Authenticator* auth)
    : core_(core),
      blobs_(blobs),
      guard_(auth, Api::kWorker, /*max_request_bytes=*/0),
      completers_(kCompleterThreads) {}

WorkerServiceImpl::~WorkerServiceImpl() { completers_.Stop(WorkQueue::kDrain); }

ServerUnaryReactor* WorkerServiceImpl::Lease(CallbackServerContext* ctx,
                                             const emar::v1::LeaseRequest* req,
                                             emar::v1::LeaseResponse* resp) {
  if (absl::Status s = guard_.Admit(*ctx, req).status(); !s.ok()) return FinishUnary(ctx, s);
  return NewLeaseReactor(core_, req, resp);
}

ServerUnaryReactor* WorkerServiceImpl::Heartbeat(CallbackServerContext* ctx,
                                                 const emar::v1::HeartbeatRequest* req,
                                                 emar::v1::HeartbeatResponse* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal&) { return core_->Heartbeat(*req); });
}

ServerUnaryReactor* WorkerServiceImpl::Complete(CallbackServerContext* ctx,
                                                const emar::v1::CompleteRequest* req,
                                                emar::v1::CompleteResponse* resp) {
  if (absl::Status s = guard_.Admit(*ctx, req).status(); !s.ok()) return FinishUnary(ctx, s);
  // The request and response live until Finish.
  ServerUnaryReactor* reactor = ctx->DefaultReactor();
  completers_.Push([this, req, resp, reactor] {
    auto r = core_->Complete(*req);
    if (r.ok()) {
      *resp = std::move(*r);
      // Only now, with the outcome durable: a shard pending for the worker, without waiting.
      if (req->lease_next()) {
        if (std::optional<emar::v1::ShardTask> next = core_->TryLease(req->worker_id())) {
          *resp->mutable_next_task() = std::move(*next);
        }
      }
    }
    reactor->Finish(ToGrpcStatus(r.status()));
  });
  return reactor;
}

grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>* WorkerServiceImpl::ReadBlob(
    CallbackServerContext* ctx, const emar::v1::ReadBlobRequest* req) {
  absl::Status allowed = guard_.Admit(*ctx, req).status();
  if (allowed.ok()) allowed = blobs_->CheckRead(req->lease_id(), req->range());
  if (!allowed.ok()) {
    return RefusedStream<grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>>(allowed);
  }
  return NewReadBlobReactor(&blobs_->bytes(), req->range());
}

}  // namespace emar
