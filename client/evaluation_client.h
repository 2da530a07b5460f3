// Client-side calls to EvaluationService: content-addressed upload (ask which blobs are missing,
// send only those, chunked), job submission, watching, reports. Used by emarctl and by the
// embedded default, which talks to an in-process coordinator over the same calls.
//
//   EvaluationClient client(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
//   ASSIGN_OR_RETURN(Job job, client.Submit(job_file, /*request_id=*/""));
//   ASSIGN_OR_RETURN(Job done, client.Watch(job.job_id(), [](const Job& j) { ... }));
//   ASSIGN_OR_RETURN(Report report, client.GetReport(job.job_id()));
#ifndef EMAR_CLIENT_EVALUATION_CLIENT_H_
#define EMAR_CLIENT_EVALUATION_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/job_file.h"
#include "client/upload_pipeline.h"
#include "emar/v1/service.grpc.pb.h"

namespace emar {

struct EvaluationClientOptions {
  // Deadline of each unary call (CreateJob gets ten times this: it reads whole files); uploads
  // get it plus a second per MiB.
  absl::Duration rpc_timeout = absl::Seconds(60);
  // Watch re-attaches after UNAVAILABLE (a coordinator restart or shutdown) for this long
  // without hearing from the coordinator, then gives up.
  absl::Duration watch_reattach = absl::Minutes(10);
  // A coordinator in this process (the embedded mode): Submit stores each input through this
  // (path -> digest) instead of hashing and uploading it (UploadCalls::import_file).
  std::function<absl::StatusOr<std::string>(const std::string& path)> import_file;
};

// How Submit rides out a coordinator that restarts mid-submit: hashing, uploads and CreateJob
// are tried again after UNAVAILABLE (and only then), with backoff, under the same request id, so
// the coordinator makes one job; each try uploads only the blobs the coordinator still lacks. A
// coordinator that never answered this Submit (a wrong address, a TLS mismatch) fails at once.
struct SubmitRetry {
  absl::Time until = absl::InfinitePast();  // no try starts after this (InfinitePast: no retry)
  // Told of each retry before its wait: the error and the wait.
  std::function<void(const absl::Status& why, absl::Duration wait)> on_retry;
};

// A fresh random request id ("req-" and 32 hex digits).
std::string NewRequestId();

class EvaluationClient {
 public:
  // Submit's progress before the job exists: phase "hashing" or "uploading", bytes done of total,
  // then "planning" (0, 0) while CreateJob runs.
  using TransferCallback = ::emar::TransferCallback;

  explicit EvaluationClient(std::shared_ptr<grpc::Channel> channel,
                            EvaluationClientOptions options = {});

  // Hashes every input, uploads the ones the coordinator lacks (client/upload_pipeline.h),
  // creates the job. An empty request_id gets a fresh random one (so a retried CreateJob never
  // makes two jobs). `retry`: see SubmitRetry (default: none).
  absl::StatusOr<emar::v1::Job> Submit(const JobFile& job, std::string request_id,
                                       const TransferCallback& on_transfer = nullptr,
                                       const SubmitRetry& retry = {});
  // Streams `local_path` as blob `sha256` (skipped when already present). `on_chunk` gets the
  // bytes sent so far after every chunk; `on_sent` is called once the last byte is sent (or the
  // stream has failed), before the coordinator's acknowledgement, which waits for the disk.
  absl::Status Upload(const std::string& local_path, const std::string& sha256,
                      const std::function<void(int64_t sent)>& on_chunk = nullptr,
                      const std::function<void()>& on_sent = nullptr);
  // Follows the job until it is terminal; `on_event` sees every event (again after a
  // re-attach). Returns the final job.
  // DEADLINE_EXCEEDED (naming the job's last state) when it has not ended by `deadline`.
  absl::StatusOr<emar::v1::Job> Watch(const std::string& job_id,
                                      const std::function<void(const emar::v1::Job&)>& on_event,
                                      absl::Time deadline = absl::InfiniteFuture());
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id);
  absl::StatusOr<std::vector<emar::v1::Job>> ListJobs(int limit);
  // One page of jobs (labels filter, page_token).
  absl::StatusOr<emar::v1::ListJobsResponse> ListJobs(const emar::v1::ListJobsRequest& request);
  absl::StatusOr<emar::v1::Series> GetSeries(const emar::v1::GetSeriesRequest& request);
  absl::StatusOr<emar::v1::Job> CancelJob(const std::string& job_id);
  absl::StatusOr<emar::v1::Report> GetReport(const std::string& job_id);
  // Removes a finished job, its results and the blobs no other job reads.
  absl::StatusOr<emar::v1::DeleteJobResponse> DeleteJob(const std::string& job_id);
  // Admin only: forgets the score cache entries of a job, or of a blob digest or cache key
  // (exactly one of the two non-empty).
  absl::StatusOr<emar::v1::DropCacheResponse> DropCache(const std::string& job_id,
                                                        const std::string& digest);
  // Streams a finished job's flips (ListFlipsRequest) to `on_item` as they arrive.
  absl::Status ListFlips(const emar::v1::ListFlipsRequest& request,
                         const std::function<void(const emar::v1::FlipItem&)>& on_item);

 private:
  void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) const;
  // One try of Submit: hashing, FindMissingBlobs and uploads, CreateJob. Sets `*heard` once the
  // coordinator answers a call.
  absl::StatusOr<emar::v1::Job> SubmitOnce(const JobFile& job, emar::v1::CreateJobRequest req,
                                           const TransferCallback& on_transfer,
                                           std::atomic<bool>* heard);
  // One unary call with the rpc_timeout deadline.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(grpc::Status (emar::v1::EvaluationService::Stub::*method)(
                                     grpc::ClientContext*, const Request&, Response*),
                                 const Request& request);

  std::unique_ptr<emar::v1::EvaluationService::Stub> stub_;
  const EvaluationClientOptions options_;
};

}  // namespace emar

#endif  // EMAR_CLIENT_EVALUATION_CLIENT_H_
