// gRPC adapter for emar.v1.EvaluationService over a ClientCore (the Coordinator) and BlobAccess
// (callback API: no thread is parked per upload or watch). Every handler admits its call through
// one CallGuard (server/call_guard.h); the streams are reactors of their own files.
#ifndef EMAR_SERVER_EVALUATION_SERVICE_H_
#define EMAR_SERVER_EVALUATION_SERVICE_H_

#include "emar/v1/service.grpc.pb.h"
#include "server/auth.h"
#include "server/blob_access.h"
#include "server/call_guard.h"
#include "server/job_planner.h"
#include "server/service_cores.h"
#include "server/upload_reactor.h"

namespace emar {

// Sizes the client API accepts; beyond them a call ends with RESOURCE_EXHAUSTED naming the flag.
struct ClientApiLimits {
  int64_t max_blob_bytes = static_cast<int64_t>(kDefaultMaxInputBytes);  // --max-blob-mb
  // Every client request and every upload chunk (--max-request-kb). The transport's own limit
  // (--max-message-mb) is larger, for the worker API's shard results.
  int64_t max_request_bytes = int64_t{4} << 20;
};

// `core` and `blobs` must outlive the service.
class EvaluationServiceImpl final : public emar::v1::EvaluationService::CallbackService {
 public:
  // `uploads` (may be null: no limits) bounds the uploads in number and idle time.
  // `auth` (may be null: everyone is the anonymous admin) decides who calls.
  EvaluationServiceImpl(ClientCore* core, BlobAccess* blobs, ClientApiLimits limits,
                        UploadLimiter* uploads, const Authenticator* auth = nullptr)
      : core_(core),
        blobs_(blobs),
        limits_(limits),
        uploads_(uploads),
        guard_(auth, Api::kClient, limits.max_request_bytes) {}

  grpc::ServerUnaryReactor* FindMissingBlobs(grpc::CallbackServerContext* ctx,
                                             const emar::v1::FindMissingBlobsRequest* req,
                                             emar::v1::FindMissingBlobsResponse* resp) override;
  grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* UploadBlob(
      grpc::CallbackServerContext* ctx, emar::v1::UploadBlobResponse* resp) override;
  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* ctx,
                                      const emar::v1::CreateJobRequest* req,
                                      emar::v1::Job* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx,
                                   const emar::v1::GetJobRequest* req,
                                   emar::v1::Job* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx,
                                     const emar::v1::ListJobsRequest* req,
                                     emar::v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx,
                                      const emar::v1::CancelJobRequest* req,
                                      emar::v1::Job* resp) override;
  grpc::ServerWriteReactor<emar::v1::JobEvent>* WatchJob(
      grpc::CallbackServerContext* ctx, const emar::v1::WatchJobRequest* req) override;
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* ctx,
                                      const emar::v1::GetReportRequest* req,
                                      emar::v1::Report* resp) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* ctx,
                                      const emar::v1::DeleteJobRequest* req,
                                      emar::v1::DeleteJobResponse* resp) override;
  grpc::ServerUnaryReactor* DropCache(grpc::CallbackServerContext* ctx,
                                      const emar::v1::DropCacheRequest* req,
                                      emar::v1::DropCacheResponse* resp) override;
  grpc::ServerUnaryReactor* GetSeries(grpc::CallbackServerContext* ctx,
                                      const emar::v1::GetSeriesRequest* req,
                                      emar::v1::Series* resp) override;
  grpc::ServerWriteReactor<emar::v1::FlipItem>* ListFlips(
      grpc::CallbackServerContext* ctx, const emar::v1::ListFlipsRequest* req) override;

 private:
  ClientCore* const core_;
  BlobAccess* const blobs_;
  const ClientApiLimits limits_;
  UploadLimiter* const uploads_;
  const CallGuard guard_;
};

}  // namespace emar

#endif  // EMAR_SERVER_EVALUATION_SERVICE_H_
