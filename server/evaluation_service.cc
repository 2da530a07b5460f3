#include "server/evaluation_service.h"

#include <deque>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/job_state.h"
#include "server/upload_reactor.h"

namespace emar {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

// Shared between the watch reactor and the coordinator's callbacks, which may outlive it.
struct WatchChannel {
  absl::Mutex mu;
  grpc::ServerWriteReactor<emar::v1::JobEvent>* reactor ABSL_GUARDED_BY(mu) = nullptr;
  std::deque<emar::v1::JobEvent> queue ABSL_GUARDED_BY(mu);
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;
  bool saw_terminal ABSL_GUARDED_BY(mu) = false;
  int32_t last_done ABSL_GUARDED_BY(mu) = -1;
  // A status to end the stream with once the write in flight completes (gRPC cancels a stream
  // finished while a write is outstanding: the client would see CANCELLED, not UNAVAILABLE).
  std::optional<grpc::Status> finish_after_write ABSL_GUARDED_BY(mu);
};

class WatchReactor final : public grpc::ServerWriteReactor<emar::v1::JobEvent> {
 public:
  WatchReactor(Coordinator* c, const std::string& job_id, const Principal& who)
      : coordinator_(c), channel_(std::make_shared<WatchChannel>()) {
    {
      absl::MutexLock lock(&channel_->mu);
      channel_->reactor = this;
    }
    auto handle = coordinator_->Watch(
        job_id, [ch = channel_](const emar::v1::Job& job) { Push(ch, job); },
        [ch = channel_] {
          // The coordinator is going away with the job unfinished: end the stream now, so the
          // server drains at once and the client re-attaches to the next instance.
          absl::MutexLock lock(&ch->mu);
          if (ch->reactor == nullptr || ch->finished) return;
          const grpc::Status bye(grpc::StatusCode::UNAVAILABLE,
                                 "the coordinator is shutting down; watch again");
          if (ch->writing) {
            ch->finish_after_write = bye;
            return;
          }
          ch->finished = true;
          ch->reactor->Finish(bye);
        },
        who);
    if (!handle.ok()) {
      absl::MutexLock lock(&channel_->mu);
      channel_->finished = true;
      Finish(ToGrpcStatus(handle.status()));
      return;
    }
    handle_ = *handle;
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&channel_->mu);
    channel_->writing = false;
    channel_->queue.pop_front();
    if (!ok) {
      Close(grpc::Status(grpc::StatusCode::CANCELLED, "watcher went away"));
      return;
    }
    if (channel_->finish_after_write) {
      Close(*channel_->finish_after_write);
      return;
    }
    WriteNextLocked(channel_.get());
  }
  void OnCancel() override {
    absl::MutexLock lock(&channel_->mu);
    Close(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
  }
  void OnDone() override {
    if (handle_) coordinator_->Unwatch(*handle_);
    {
      absl::MutexLock lock(&channel_->mu);
      channel_->reactor = nullptr;
    }
    delete this;
  }

 private:
  static void Push(const std::shared_ptr<WatchChannel>& ch, const emar::v1::Job& job) {
    absl::MutexLock lock(&ch->mu);
    if (ch->reactor == nullptr || ch->finished || ch->saw_terminal) return;
    const bool terminal = IsTerminalJobState(job.state());
    if (!terminal && job.progress().shards_done() < ch->last_done)
      return;  // stale, raced a newer one
    ch->last_done = job.progress().shards_done();
    ch->saw_terminal = terminal;
    emar::v1::JobEvent ev;
    *ev.mutable_job() = job;
    ch->queue.push_back(std::move(ev));
    WriteNextLocked(ch.get());
  }
  static void WriteNextLocked(WatchChannel* ch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ch->mu) {
    if (ch->reactor == nullptr || ch->finished || ch->writing) return;
    if (ch->queue.empty()) {
      if (ch->saw_terminal) {
        ch->finished = true;
        ch->reactor->Finish(grpc::Status::OK);
      }
      return;
    }
    ch->writing = true;
    ch->reactor->StartWrite(&ch->queue.front());
  }
  void Close(const grpc::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(channel_->mu) {
    if (channel_->finished) return;
    channel_->finished = true;
    Finish(s);
  }

  Coordinator* const coordinator_;
  std::shared_ptr<WatchChannel> channel_;
  std::optional<uint64_t> handle_;
};

// Streams refused before they start: they delete themselves when done.
template <typename T>
class FinishedWriteReactor final : public grpc::ServerWriteReactor<T> {
 public:
  void OnDone() override { delete this; }
};
template <typename T>
class FinishedReadReactor final : public grpc::ServerReadReactor<T> {
 public:
  void OnDone() override { delete this; }
};

// RESOURCE_EXHAUSTED when a client request is larger than --max-request-kb allows.
absl::Status CheckRequestSize(const google::protobuf::Message& req, int64_t limit) {
  const size_t size = req.ByteSizeLong();
  if (static_cast<int64_t>(size) <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(req.GetDescriptor()->name(), " of ", size,
                                                   " bytes exceeds --max-request-kb (", limit >> 10,
                                                   " KiB)"));
}

}  // namespace

ServerUnaryReactor* EvaluationServiceImpl::FindMissingBlobs(
    CallbackServerContext* ctx, const emar::v1::FindMissingBlobsRequest* req,
    emar::v1::FindMissingBlobsResponse* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  std::vector<std::string> digests(req->sha256().begin(), req->sha256().end());
  for (const std::string& d : digests) {
    if (!IsSha256Hex(d)) {
      return FinishUnary(ctx, absl::InvalidArgumentError(absl::StrCat(
                                  "sha256 '", d, "' is not 64 lowercase hex characters")));
    }
  }
  for (std::string& m : coordinator_->FindMissingBlobs(digests, *who))
    resp->add_missing_sha256(std::move(m));
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* EvaluationServiceImpl::UploadBlob(
    CallbackServerContext* ctx, emar::v1::UploadBlobResponse* resp) {
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) {
    auto* r = new FinishedReadReactor<emar::v1::UploadBlobRequest>();
    r->Finish(ToGrpcStatus(who.status()));
    return r;
  }
  return NewUploadReactor(coordinator_, uploads_, limits_.max_blob_bytes, limits_.max_request_bytes,
                          *who, resp);
}

ServerUnaryReactor* EvaluationServiceImpl::DeleteJob(CallbackServerContext* ctx,
                                                     const emar::v1::DeleteJobRequest* req,
                                                     emar::v1::DeleteJobResponse* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto deleted = coordinator_->DeleteJob(req->job_id(), *who);
  if (deleted.ok()) *resp = std::move(*deleted);
  return FinishUnary(ctx, deleted.status());
}

ServerUnaryReactor* EvaluationServiceImpl::CreateJob(CallbackServerContext* ctx,
                                                     const emar::v1::CreateJobRequest* req,
                                                     emar::v1::Job* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  // Planned on a coordinator thread, never on this reaction thread: planning reads and checks
  // whole references files. The reactor, `ctx` and `resp` live until Finish.
  ServerUnaryReactor* reactor = ctx->DefaultReactor();
  coordinator_->CreateJobAsync(
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
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto job = coordinator_->GetJob(req->job_id(), *who);
  if (job.ok()) *resp = std::move(*job);
  return FinishUnary(ctx, job.status());
}

ServerUnaryReactor* EvaluationServiceImpl::ListJobs(CallbackServerContext* ctx,
                                                    const emar::v1::ListJobsRequest* req,
                                                    emar::v1::ListJobsResponse* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto page = coordinator_->ListJobs(*req, *who);
  if (page.ok()) *resp = std::move(*page);
  return FinishUnary(ctx, page.status());
}

ServerUnaryReactor* EvaluationServiceImpl::GetSeries(CallbackServerContext* ctx,
                                                     const emar::v1::GetSeriesRequest* req,
                                                     emar::v1::Series* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto series = coordinator_->GetSeries(*req, *who);
  if (series.ok()) *resp = std::move(*series);
  return FinishUnary(ctx, series.status());
}

ServerUnaryReactor* EvaluationServiceImpl::CancelJob(CallbackServerContext* ctx,
                                                     const emar::v1::CancelJobRequest* req,
                                                     emar::v1::Job* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto job = coordinator_->CancelJob(req->job_id(), *who);
  if (job.ok()) *resp = std::move(*job);
  return FinishUnary(ctx, job.status());
}

grpc::ServerWriteReactor<emar::v1::JobEvent>* EvaluationServiceImpl::WatchJob(
    CallbackServerContext* ctx, const emar::v1::WatchJobRequest* req) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    auto* r = new FinishedWriteReactor<emar::v1::JobEvent>();
    r->Finish(ToGrpcStatus(s));
    return r;
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) {
    auto* r = new FinishedWriteReactor<emar::v1::JobEvent>();
    r->Finish(ToGrpcStatus(who.status()));
    return r;
  }
  return new WatchReactor(coordinator_, req->job_id(), *who);
}

ServerUnaryReactor* EvaluationServiceImpl::GetReport(CallbackServerContext* ctx,
                                                     const emar::v1::GetReportRequest* req,
                                                     emar::v1::Report* resp) {
  if (absl::Status s = CheckRequestSize(*req, limits_.max_request_bytes); !s.ok()) {
    return FinishUnary(ctx, s);
  }
  const absl::StatusOr<Principal> who = Caller(*ctx);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  auto report = coordinator_->GetReport(req->job_id(), *who);
  if (report.ok()) *resp = std::move(*report);
  return FinishUnary(ctx, report.status());
}

}  // namespace emar
