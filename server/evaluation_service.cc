#include "server/evaluation_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "server/flips_reactor.h"
#include "server/watch_reactor.h"

namespace emar {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

ServerUnaryReactor* EvaluationServiceImpl::FindMissingBlobs(
    CallbackServerContext* ctx, const emar::v1::FindMissingBlobsRequest* req,
    emar::v1::FindMissingBlobsResponse* resp) {
  return ServeUnary(
      ctx, guard_, req, resp,
      [&](const Principal& who) -> absl::StatusOr<emar::v1::FindMissingBlobsResponse> {
        std::vector<std::string> digests(req->sha256().begin(), req->sha256().end());
        for (const std::string& d : digests) {
          if (!IsSha256Hex(d)) {
            return absl::InvalidArgumentError(
                absl::StrCat("sha256 '", d, "' is not 64 lowercase hex characters"));
          }
        }
        emar::v1::FindMissingBlobsResponse missing;
        for (std::string& m : blobs_->FindMissing(digests, who)) {
          missing.add_missing_sha256(std::move(m));
        }
        return missing;
      });
}

grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* EvaluationServiceImpl::UploadBlob(
    CallbackServerContext* ctx, emar::v1::UploadBlobResponse* resp) {
  const absl::StatusOr<Principal> who = guard_.Admit(*ctx, nullptr);  // chunks checked as read
  if (!who.ok()) {
    return RefusedStream<grpc::ServerReadReactor<emar::v1::UploadBlobRequest>>(who.status());
  }
  return NewUploadReactor(blobs_, uploads_, limits_.max_blob_bytes, limits_.max_request_bytes, *who,
                          resp);
}

ServerUnaryReactor* EvaluationServiceImpl::CreateJob(CallbackServerContext* ctx,
                                                     const emar::v1::CreateJobRequest* req,
                                                     emar::v1::Job* resp) {
  const absl::StatusOr<Principal> who = guard_.Admit(*ctx, req);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  // Planned on a coordinator thread, never on this reaction thread: planning reads and checks
  // whole references files. The reactor, `ctx` and `resp` live until Finish.
  ServerUnaryReactor* reactor = ctx->DefaultReactor();
  core_->CreateJobAsync(
      *req,
      [reactor, resp](absl::StatusOr<emar::v1::Job> job) {
        if (job.ok()) *resp = std::move(*job);
        reactor->Finish(ToGrpcStatus(job.status()));
      },
      *who);
  return reactor;
}

ServerUnaryReactor* EvaluationServiceImpl::GetJob(CallbackServerContext* ctx,
                                                  const emar::v1::GetJobRequest* req,
                                                  emar::v1::Job* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->GetJob(req->job_id(), who); });
}

ServerUnaryReactor* EvaluationServiceImpl::ListJobs(CallbackServerContext* ctx,
                                                    const emar::v1::ListJobsRequest* req,
                                                    emar::v1::ListJobsResponse* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->ListJobs(*req, who); });
}

ServerUnaryReactor* EvaluationServiceImpl::GetSeries(CallbackServerContext* ctx,
                                                     const emar::v1::GetSeriesRequest* req,
                                                     emar::v1::Series* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->GetSeries(*req, who); });
}

ServerUnaryReactor* EvaluationServiceImpl::CancelJob(CallbackServerContext* ctx,
                                                     const emar::v1::CancelJobRequest* req,
                                                     emar::v1::Job* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->CancelJob(req->job_id(), who); });
}

ServerUnaryReactor* EvaluationServiceImpl::GetReport(CallbackServerContext* ctx,
                                                     const emar::v1::GetReportRequest* req,
                                                     emar::v1::Report* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->GetReport(req->job_id(), who); });
}

ServerUnaryReactor* EvaluationServiceImpl::DeleteJob(CallbackServerContext* ctx,
                                                     const emar::v1::DeleteJobRequest* req,
                                                     emar::v1::DeleteJobResponse* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->DeleteJob(req->job_id(), who); });
}

ServerUnaryReactor* EvaluationServiceImpl::DropCache(CallbackServerContext* ctx,
                                                     const emar::v1::DropCacheRequest* req,
                                                     emar::v1::DropCacheResponse* resp) {
  return ServeUnary(ctx, guard_, req, resp,
                    [&](const Principal& who) { return core_->DropCache(*req, who); });
}

grpc::ServerWriteReactor<emar::v1::JobEvent>* EvaluationServiceImpl::WatchJob(
    CallbackServerContext* ctx, const emar::v1::WatchJobRequest* req) {
  const absl::StatusOr<Principal> who = guard_.Admit(*ctx, req);
  if (!who.ok()) return RefusedStream<grpc::ServerWriteReactor<emar::v1::JobEvent>>(who.status());
  return NewWatchReactor(core_, req->job_id(), *who);
}

grpc::ServerWriteReactor<emar::v1::FlipItem>* EvaluationServiceImpl::ListFlips(
    CallbackServerContext* ctx, const emar::v1::ListFlipsRequest* req) {
  const absl::StatusOr<Principal> who = guard_.Admit(*ctx, req);
  if (!who.ok()) return RefusedStream<grpc::ServerWriteReactor<emar::v1::FlipItem>>(who.status());
  return NewFlipsReactor(core_, *req, *who);
}

}  // namespace emar
