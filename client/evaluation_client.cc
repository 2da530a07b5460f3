#include "client/evaluation_client.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace emar {
namespace {

std::string RandomRequestId() {
  std::random_device rd;
  return absl::StrFormat("req-%08x%08x%08x%08x", rd(), rd(), rd(), rd());
}

}  // namespace

EvaluationClient::EvaluationClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(emar::v1::EvaluationService::NewStub(channel)) {}

absl::Status EvaluationClient::Upload(const std::string& local_path, const std::string& sha256) {
  FILE* f = std::fopen(local_path.c_str(), "rb");
  if (f == nullptr)
    return absl::NotFoundError(absl::StrCat(local_path, ": ", std::strerror(errno)));
  std::fseek(f, 0, SEEK_END);
  const int64_t size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  grpc::ClientContext ctx;
  emar::v1::UploadBlobResponse resp;
  auto writer = stub_->UploadBlob(&ctx, &resp);
  emar::v1::UploadBlobRequest msg;
  msg.set_sha256(sha256);
  msg.set_size_bytes(size);
  std::string buf(1 << 20, '\0');
  bool first = true;
  size_t n;
  bool ok = true;
  while (ok && (n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    msg.set_chunk(buf.data(), n);
    ok = writer->Write(msg);
    if (first) {
      msg.clear_sha256();
      msg.clear_size_bytes();
      first = false;
    }
  }
  std::fclose(f);
  if (first && ok) writer->Write(msg);  // empty file: the header alone
  writer->WritesDone();
  absl::Status st = FromGrpcStatus(writer->Finish());
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat("uploading ", local_path, ": ", st.message()));
  return absl::OkStatus();
}

absl::StatusOr<emar::v1::Job> EvaluationClient::Submit(const JobFile& job, std::string request_id) {
  emar::v1::CreateJobRequest req;
  *req.mutable_spec() = job.spec;
  req.set_request_id(request_id.empty() ? RandomRequestId() : std::move(request_id));
  emar::v1::FindMissingBlobsRequest find;
  for (const JobFileInput& in : job.inputs) {
    absl::StatusOr<std::string> sha = Sha256OfFile(in.local_path);
    if (!sha.ok()) {
      return absl::Status(sha.status().code(), absl::StrCat("job spec field '", in.field,
                                                            "': ", sha.status().message()));
    }
    (*req.mutable_input_digests())[in.spec_path] = *sha;
    find.add_sha256(*sha);
  }
  emar::v1::FindMissingBlobsResponse missing;
  {
    grpc::ClientContext ctx;
    RETURN_IF_ERROR(FromGrpcStatus(stub_->FindMissingBlobs(&ctx, find, &missing)));
  }
  for (const std::string& sha : missing.missing_sha256()) {
    for (const JobFileInput& in : job.inputs) {
      if (req.input_digests().at(in.spec_path) == sha) {
        RETURN_IF_ERROR(Upload(in.local_path, sha));
        break;
      }
    }
  }
  grpc::ClientContext ctx;
  emar::v1::Job created;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->CreateJob(&ctx, req, &created)));
  return created;
}

absl::StatusOr<emar::v1::Job> EvaluationClient::Watch(
    const std::string& job_id, const std::function<void(const emar::v1::Job&)>& on_event) {
  grpc::ClientContext ctx;
  emar::v1::WatchJobRequest req;
  req.set_job_id(job_id);
  auto reader = stub_->WatchJob(&ctx, req);
  emar::v1::JobEvent ev;
  emar::v1::Job last;
  while (reader->Read(&ev)) {
    last = ev.job();
    if (on_event) on_event(last);
  }
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  if (!IsTerminalJobState(last.state())) {
    return absl::UnavailableError(
        absl::StrCat("watch of job '", job_id, "' ended before the job did"));
  }
  return last;
}

absl::StatusOr<emar::v1::Job> EvaluationClient::GetJob(const std::string& job_id) {
  grpc::ClientContext ctx;
  emar::v1::GetJobRequest req;
  req.set_job_id(job_id);
  emar::v1::Job job;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->GetJob(&ctx, req, &job)));
  return job;
}

absl::StatusOr<std::vector<emar::v1::Job>> EvaluationClient::ListJobs(int limit) {
  grpc::ClientContext ctx;
  emar::v1::ListJobsRequest req;
  req.set_limit(limit);
  emar::v1::ListJobsResponse resp;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->ListJobs(&ctx, req, &resp)));
  return std::vector<emar::v1::Job>(resp.jobs().begin(), resp.jobs().end());
}

absl::StatusOr<emar::v1::Job> EvaluationClient::CancelJob(const std::string& job_id) {
  grpc::ClientContext ctx;
  emar::v1::CancelJobRequest req;
  req.set_job_id(job_id);
  emar::v1::Job job;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->CancelJob(&ctx, req, &job)));
  return job;
}

absl::StatusOr<emar::v1::Report> EvaluationClient::GetReport(const std::string& job_id) {
  grpc::ClientContext ctx;
  emar::v1::GetReportRequest req;
  req.set_job_id(job_id);
  emar::v1::Report report;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->GetReport(&ctx, req, &report)));
  return report;
}

}  // namespace emar
