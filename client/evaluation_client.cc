#include "client/evaluation_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <random>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/job_state.h"
#include "common/status_macros.h"

namespace emar {
namespace {

// Size of a file, 0 when it cannot be read (hashing it then says why).
int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// Whether Submit should try again: the coordinator unreachable or restarting (UNAVAILABLE), but
// not a TLS setup that fails (gRPC 1.51 reports that as UNAVAILABLE too, "failed to connect ...
// Ssl handshake failed: ... certificate verify failed"): trying again would fail the same way.
bool RetryableSubmitError(const absl::Status& s) {
  if (!absl::IsUnavailable(s)) return false;
  for (absl::string_view tls : {"handshake", "certificate", "wrong version number",
                                "packet length too long", "http request", "record layer failure"}) {
    if (absl::StrContains(s.message(), tls)) return false;
  }
  return true;
}

}  // namespace

std::string NewRequestId() {
  std::random_device rd;
  return absl::StrFormat("req-%08x%08x%08x%08x", rd(), rd(), rd(), rd());
}

EvaluationClient::EvaluationClient(std::shared_ptr<grpc::Channel> channel,
                                   EvaluationClientOptions options)
    : stub_(emar::v1::EvaluationService::NewStub(std::move(channel))),
      options_(std::move(options)) {}

void EvaluationClient::SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Status EvaluationClient::Upload(const std::string& local_path, const std::string& sha256,
                                      const std::function<void(int64_t sent)>& on_chunk,
                                      const std::function<void()>& on_sent) {
  FILE* f = std::fopen(local_path.c_str(), "rb");
  if (f == nullptr)
    // Not strerror: uploads run on several threads at once (client/upload_pipeline.h).
    return absl::NotFoundError(
        absl::StrCat(local_path, ": ", std::generic_category().message(errno)));
  std::fseek(f, 0, SEEK_END);
  const int64_t size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  grpc::ClientContext ctx;
  SetDeadline(ctx, options_.rpc_timeout + absl::Seconds(size >> 20));
  emar::v1::UploadBlobResponse resp;
  auto writer = stub_->UploadBlob(&ctx, &resp);
  emar::v1::UploadBlobRequest msg;
  msg.set_sha256(sha256);
  msg.set_size_bytes(size);
  std::string buf(1 << 20, '\0');
  bool first = true;
  size_t n;
  bool ok = true;
  int64_t sent = 0;
  while (ok && (n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    msg.set_chunk(buf.data(), n);
    ok = writer->Write(msg);
    sent += static_cast<int64_t>(n);
    if (on_chunk) on_chunk(sent);
    if (first) {
      msg.clear_sha256();
      msg.clear_size_bytes();
      first = false;
    }
  }
  std::fclose(f);
  if (first && ok) writer->Write(msg);  // empty file: the header alone
  writer->WritesDone();
  if (on_sent) on_sent();
  absl::Status st = FromGrpcStatus(writer->Finish());
  if (!st.ok())
    return absl::Status(st.code(), absl::StrCat("uploading ", local_path, ": ", st.message()));
  return absl::OkStatus();
}

absl::StatusOr<emar::v1::Job> EvaluationClient::Submit(const JobFile& job, std::string request_id,
                                                       const TransferCallback& on_transfer,
                                                       const SubmitRetry& retry) {
  emar::v1::CreateJobRequest req;
  *req.mutable_spec() = job.spec;
  req.set_request_id(request_id.empty() ? NewRequestId() : std::move(request_id));
  absl::Duration wait = absl::Milliseconds(250);
  std::atomic<bool> heard{false};  // a coordinator never reached is not restarting
  while (true) {
    absl::StatusOr<emar::v1::Job> created = SubmitOnce(job, req, on_transfer, &heard);
    // Only UNAVAILABLE (the coordinator down, restarting, or out of disk) is worth another try:
    // anything else (a bad job, a refused token, a quota, TLS) would be answered the same again.
    if (created.ok() || !heard.load() || !RetryableSubmitError(created.status()) ||
        absl::Now() + wait > retry.until) {
      return created;
    }
    if (retry.on_retry) retry.on_retry(created.status(), wait);
    absl::SleepFor(wait);
    wait = std::min(wait * 2, absl::Seconds(4));
  }
}

absl::StatusOr<emar::v1::Job> EvaluationClient::SubmitOnce(const JobFile& job,
                                                           emar::v1::CreateJobRequest req,
                                                           const TransferCallback& on_transfer,
                                                           std::atomic<bool>* heard) {
  // The distinct local files in input order, with the first spec field naming each.
  std::vector<UploadFile> files;
  std::map<std::string, size_t> file_of_path;
  for (const JobFileInput& in : job.inputs) {
    if (!file_of_path.emplace(in.local_path, files.size()).second) continue;
    files.push_back({in.local_path, in.field, FileSize(in.local_path)});
  }
  UploadCalls calls;
  calls.is_missing = [this, heard](const std::string& sha256) -> absl::StatusOr<bool> {
    emar::v1::FindMissingBlobsRequest find;
    find.add_sha256(sha256);
    absl::StatusOr<emar::v1::FindMissingBlobsResponse> missing =
        Unary(&emar::v1::EvaluationService::Stub::FindMissingBlobs, find);
    if (!missing.ok()) return missing.status();
    heard->store(true);
    return missing->missing_sha256_size() > 0;
  };
  calls.upload = [this](const std::string& path, const std::string& sha256,
                        const std::function<void(int64_t)>& on_chunk,
                        const std::function<void()>& on_sent) {
    return Upload(path, sha256, on_chunk, on_sent);
  };
  calls.import_file = options_.import_file;
  absl::StatusOr<std::vector<std::string>> digests = UploadInputs(files, calls, on_transfer);
  if (!digests.ok()) return digests.status();
  for (const JobFileInput& in : job.inputs) {
    (*req.mutable_input_digests())[in.spec_path] = (*digests)[file_of_path.at(in.local_path)];
  }
  // CreateJob reads, checks and shards every input on the coordinator: seconds for large ones.
  if (on_transfer) on_transfer("planning", 0, 0);
  grpc::ClientContext ctx;
  SetDeadline(ctx, 10 * options_.rpc_timeout);
  emar::v1::Job created;
  RETURN_IF_ERROR(FromGrpcStatus(stub_->CreateJob(&ctx, req, &created)));
  return created;
}

absl::StatusOr<emar::v1::Job> EvaluationClient::Watch(
    const std::string& job_id, const std::function<void(const emar::v1::Job&)>& on_event,
    absl::Time deadline) {
  emar::v1::WatchJobRequest req;
  req.set_job_id(job_id);
  absl::Time last_contact = absl::Now();
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Status why;
  bool heard = false;
  emar::v1::Job seen;  // the last state heard, for the timeout's message
  auto timed_out = [&]() {
    std::string where = "nothing was heard from the coordinator";
    if (!seen.job_id().empty()) {
      const emar::v1::JobProgress& p = seen.progress();
      std::string state = emar::v1::JobState_Name(seen.state());
      if (state.rfind("JOB_STATE_", 0) == 0) state = absl::AsciiStrToLower(state.substr(10));
      where = absl::StrCat("it is ", state, " with ", p.shards_done(), " of ", p.shards_total(),
                           " shards done");
      if (p.shards_done() == 0 && p.shards_total() > 0) {
        absl::StrAppend(&where, ": nothing scored it in time (is a worker running?)");
      }
    }
    return absl::DeadlineExceededError(
        absl::StrCat("job ", job_id, " did not finish within the timeout; ", where,
                     ". The job goes on: `emarctl watch ", job_id, "` follows it."));
  };
  for (;;) {
    if (absl::Now() >= deadline) return timed_out();
    grpc::ClientContext ctx;
    if (deadline != absl::InfiniteFuture()) ctx.set_deadline(absl::ToChronoTime(deadline));
    auto reader = stub_->WatchJob(&ctx, req);
    emar::v1::JobEvent ev;
    emar::v1::Job last;
    while (reader->Read(&ev)) {
      last = ev.job();
      last_contact = absl::Now();
      heard = true;
      backoff = absl::Milliseconds(100);
      seen = last;
      if (on_event) on_event(last);
    }
    const absl::Status st = FromGrpcStatus(reader->Finish());
    if (st.ok() && IsTerminalJobState(last.state())) return last;
    if (absl::IsDeadlineExceeded(st) && absl::Now() >= deadline) return timed_out();
    // UNAVAILABLE (the coordinator restarts or shuts down) or a stream that ended early:
    // attach again, the job goes on. So for CANCELLED: this client never cancels a watch, so it
    // comes from a coordinator going away (its transport may reset streams still open as the
    // process exits). Anything else is the answer.
    if (!st.ok() && !absl::IsUnavailable(st) && !absl::IsCancelled(st)) return st;
    if (!heard) return st;  // never reached the coordinator: say so now, do not wait
    why = st.ok() ? absl::UnavailableError("the watch stream ended before the job did") : st;
    if (absl::Now() - last_contact > options_.watch_reattach) break;
    absl::SleepFor(std::min(backoff, std::max(deadline - absl::Now(), absl::ZeroDuration())));
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  return absl::UnavailableError(absl::StrCat("watch of job '", job_id, "': no answer for ",
                                             absl::FormatDuration(options_.watch_reattach),
                                             "; last error: ", why.message()));
}

template <typename Request, typename Response>
absl::StatusOr<Response> EvaluationClient::Unary(
    grpc::Status (emar::v1::EvaluationService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                              Response*),
    const Request& request) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, options_.rpc_timeout);
  Response response;
  RETURN_IF_ERROR(FromGrpcStatus((stub_.get()->*method)(&ctx, request, &response)));
  return response;
}

absl::StatusOr<emar::v1::Job> EvaluationClient::GetJob(const std::string& job_id) {
  emar::v1::GetJobRequest req;
  req.set_job_id(job_id);
  return Unary(&emar::v1::EvaluationService::Stub::GetJob, req);
}

absl::StatusOr<std::vector<emar::v1::Job>> EvaluationClient::ListJobs(int limit) {
  emar::v1::ListJobsRequest req;
  req.set_limit(limit);
  ASSIGN_OR_RETURN(emar::v1::ListJobsResponse resp, ListJobs(req));
  return std::vector<emar::v1::Job>(resp.jobs().begin(), resp.jobs().end());
}

absl::StatusOr<emar::v1::ListJobsResponse> EvaluationClient::ListJobs(
    const emar::v1::ListJobsRequest& request) {
  return Unary(&emar::v1::EvaluationService::Stub::ListJobs, request);
}

absl::StatusOr<emar::v1::Series> EvaluationClient::GetSeries(
    const emar::v1::GetSeriesRequest& request) {
  return Unary(&emar::v1::EvaluationService::Stub::GetSeries, request);
}

absl::StatusOr<emar::v1::Job> EvaluationClient::CancelJob(const std::string& job_id) {
  emar::v1::CancelJobRequest req;
  req.set_job_id(job_id);
  return Unary(&emar::v1::EvaluationService::Stub::CancelJob, req);
}

absl::StatusOr<emar::v1::DeleteJobResponse> EvaluationClient::DeleteJob(const std::string& job_id) {
  emar::v1::DeleteJobRequest req;
  req.set_job_id(job_id);
  return Unary(&emar::v1::EvaluationService::Stub::DeleteJob, req);
}

absl::StatusOr<emar::v1::DropCacheResponse> EvaluationClient::DropCache(const std::string& job_id,
                                                                        const std::string& digest) {
  emar::v1::DropCacheRequest req;
  req.set_job_id(job_id);
  req.set_digest(digest);
  return Unary(&emar::v1::EvaluationService::Stub::DropCache, req);
}

absl::StatusOr<emar::v1::Report> EvaluationClient::GetReport(const std::string& job_id) {
  emar::v1::GetReportRequest req;
  req.set_job_id(job_id);
  return Unary(&emar::v1::EvaluationService::Stub::GetReport, req);
}

absl::Status EvaluationClient::ListFlips(
    const emar::v1::ListFlipsRequest& request,
    const std::function<void(const emar::v1::FlipItem&)>& on_item) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, options_.rpc_timeout);
  std::unique_ptr<grpc::ClientReader<emar::v1::FlipItem>> reader = stub_->ListFlips(&ctx, request);
  emar::v1::FlipItem item;
  while (reader->Read(&item)) on_item(item);
  return FromGrpcStatus(reader->Finish());
}

}  // namespace emar
