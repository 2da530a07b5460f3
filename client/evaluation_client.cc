#include "client/evaluation_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace emar {
namespace {

// Size of a file, 0 when it cannot be read (hashing it then says why).
int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

std::string RandomRequestId() {
  std::random_device rd;
  return absl::StrFormat("req-%08x%08x%08x%08x", rd(), rd(), rd(), rd());
}

}  // namespace

EvaluationClient::EvaluationClient(std::shared_ptr<grpc::Channel> channel,
                                   EvaluationClientOptions options)
    : stub_(emar::v1::EvaluationService::NewStub(channel)), options_(options) {}

void EvaluationClient::SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Status EvaluationClient::Upload(const std::string& local_path, const std::string& sha256,
                                      const std::function<void(int64_t sent)>& on_chunk,
                                      const std::function<void()>& on_sent) {
  FILE* f = std::fopen(local_path.c_str(), "rb");
  if (f == nullptr)
    return absl::NotFoundError(absl::StrCat(local_path, ": ", std::strerror(errno)));
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

absl::Status EvaluationClient::UploadRetryingForASlot(
    const std::string& local_path, const std::string& sha256,
    const std::shared_future<absl::Status>& previous, std::atomic<int64_t>& sent,
    const std::function<void()>& report, const std::function<void()>& on_sent) {
  int64_t reported = 0;
  auto on_chunk = [&](int64_t sent_in_file) {
    sent += sent_in_file - reported;
    reported = sent_in_file;
    report();
  };
  absl::Status s = Upload(local_path, sha256, on_chunk, on_sent);
  // Refused for want of a slot: the previous upload holds one until it is acknowledged, and
  // the next may take the one it frees (it starts when this one's few bytes seem sent). So:
  // once that one has ended, then a few times more, briefly. A coordinator kept busy by others
  // is still an error at once, as with one upload at a time.
  absl::Duration backoff = absl::Milliseconds(10);
  for (int attempt = 0; attempt < 6 && previous.valid() && absl::IsResourceExhausted(s) &&
                        absl::StrContains(s.message(), kUploadSlotsBusy);
       ++attempt) {
    if (attempt == 0) {
      previous.wait();
    } else {
      absl::SleepFor(backoff);
      backoff *= 2;
    }
    sent -= reported;
    reported = 0;
    s = Upload(local_path, sha256, on_chunk, on_sent);
  }
  return s;
}

absl::StatusOr<emar::v1::Job> EvaluationClient::Submit(const JobFile& job, std::string request_id,
                                                       const TransferCallback& on_transfer) {
  emar::v1::CreateJobRequest req;
  *req.mutable_spec() = job.spec;
  req.set_request_id(request_id.empty() ? RandomRequestId() : std::move(request_id));
  // The distinct local files in input order, with the first spec field naming each.
  struct File {
    std::string path, field;
    int64_t size = 0;
  };
  std::vector<File> files;
  std::map<std::string, size_t> file_of_path;
  int64_t total = 0;
  for (const JobFileInput& in : job.inputs) {
    if (!file_of_path.emplace(in.local_path, files.size()).second) continue;
    files.push_back({in.local_path, in.field, FileSize(in.local_path)});
    total += files.back().size;
  }

  // A pipeline: one thread hashes the files in order while this one asks the coordinator about
  // each digest as it comes and starts its upload, so file k+1 is hashed while file k is sent.
  // Upload k+1 starts once upload k has sent its last byte: the coordinator makes k durable
  // (fsync) before acknowledging it, and that wait overlaps k+1's transfer instead of idling
  // the link. So at most two uploads hold coordinator slots (--max-uploads) at once, one of
  // them only briefly; if the second is refused for want of a slot, it is retried once the
  // first has finished.
  absl::Mutex mu;
  std::vector<absl::StatusOr<std::string>> digests(files.size(), absl::UnknownError("not hashed"));
  size_t hashed_files = 0;  // guarded by mu
  std::atomic<bool> stop_hashing{false}, hashing_done{false};
  std::atomic<int64_t> hashed{0}, sent{0}, to_send{0};
  // Bytes of the files not yet asked about: the coordinator may lack them. Hashing usually ends
  // before the first answer, so "uploading" counts them as still to send until they are asked
  // about, and only a total of 0 once every file was found present means nothing to send.
  std::atomic<int64_t> unasked{total};
  // Progress: "hashing" until every file is hashed, then "uploading" (bytes sent of those the
  // coordinator lacks, or may lack). Called from this thread, the hasher and the uploads.
  auto report = [&] {
    if (!on_transfer) return;
    if (hashing_done.load()) {
      on_transfer("uploading", sent.load(), to_send.load() + unasked.load());
    } else {
      on_transfer("hashing", hashed.load(), total);
    }
  };
  std::thread hasher([&] {
    for (size_t k = 0; k < files.size() && !stop_hashing.load(); ++k) {
      report();
      absl::StatusOr<std::string> sha = Sha256OfFile(files[k].path);
      hashed += files[k].size;
      absl::MutexLock lock(&mu);
      digests[k] = std::move(sha);
      hashed_files = k + 1;
    }
    hashing_done = true;
    report();
    absl::MutexLock lock(&mu);
    hashed_files = files.size();  // stopped early: the rest stay "not hashed", never read
  });
  struct InFlight {
    std::shared_future<absl::Status> done;
    std::shared_future<void> sent;  // its last byte is sent (or it failed)
  };
  std::deque<InFlight> uploads;
  absl::Status failed;
  auto settle_oldest = [&] {
    absl::Status s = uploads.front().done.get();
    uploads.pop_front();
    if (failed.ok()) failed = s;
  };
  auto start_upload = [&](size_t k, const std::string& sha) {
    auto all_sent = std::make_shared<std::promise<void>>();
    InFlight u;
    u.sent = all_sent->get_future().share();
    std::shared_future<absl::Status> previous =
        uploads.empty() ? std::shared_future<absl::Status>() : uploads.back().done;
    u.done = std::async(std::launch::async, [&, k, sha, all_sent, previous] {
               std::once_flag once;
               auto signal_sent = [&] { std::call_once(once, [&] { all_sent->set_value(); }); };
               absl::Status s =
                   UploadRetryingForASlot(files[k].path, sha, previous, sent, report, signal_sent);
               signal_sent();
               return s;
             }).share();
    uploads.push_back(std::move(u));
  };
  std::set<std::string> asked;  // two files with the same content are one blob
  for (size_t k = 0; k < files.size() && failed.ok(); ++k) {
    {
      absl::MutexLock lock(&mu);
      auto hashed_k = [&] { return hashed_files > k; };
      mu.Await(absl::Condition(&hashed_k));
    }
    if (!digests[k].ok()) {
      failed = absl::Status(
          digests[k].status().code(),
          absl::StrCat("job spec field '", files[k].field, "': ", digests[k].status().message()));
      break;
    }
    const std::string sha = *digests[k];
    if (!asked.insert(sha).second) {
      unasked -= files[k].size;  // the same content as an earlier file
      continue;
    }
    emar::v1::FindMissingBlobsRequest find;
    find.add_sha256(sha);
    absl::StatusOr<emar::v1::FindMissingBlobsResponse> missing =
        Unary(&emar::v1::EvaluationService::Stub::FindMissingBlobs, find);
    if (!missing.ok()) {
      failed = missing.status();
      break;
    }
    if (missing->missing_sha256_size() == 0) {
      unasked -= files[k].size;
      report();
      continue;
    }
    if (!uploads.empty()) uploads.back().sent.wait();  // one transfer at a time
    while (uploads.size() >= 2) settle_oldest();       // and one more awaiting its fsync
    if (!failed.ok()) break;
    to_send += files[k].size;  // before unasked shrinks: the total never dips below the truth
    unasked -= files[k].size;
    start_upload(k, sha);
  }
  while (!uploads.empty()) settle_oldest();
  stop_hashing = true;
  hasher.join();
  if (!failed.ok()) return failed;
  for (const JobFileInput& in : job.inputs) {
    (*req.mutable_input_digests())[in.spec_path] = *digests[file_of_path.at(in.local_path)];
  }
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

absl::StatusOr<emar::v1::Report> EvaluationClient::GetReport(const std::string& job_id) {
  emar::v1::GetReportRequest req;
  req.set_job_id(job_id);
  return Unary(&emar::v1::EvaluationService::Stub::GetReport, req);
}

}  // namespace emar
