#include "server/watch_reactor.h"

#include <deque>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/job_state.h"

namespace emar {
namespace {

// Shared between the watch reactor and the core's callbacks, which may outlive it.
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
  WatchReactor(ClientCore* core, const std::string& job_id, const Principal& who)
      : core_(core), channel_(std::make_shared<WatchChannel>()) {
    {
      absl::MutexLock lock(&channel_->mu);
      channel_->reactor = this;
    }
    auto handle = core_->Watch(
        job_id, [ch = channel_](const emar::v1::Job& job) { Push(ch, job); },
        [ch = channel_] {
          // The core is going away with the job unfinished: end the stream now, so the
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
    if (handle_) core_->Unwatch(*handle_);
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

  ClientCore* const core_;
  std::shared_ptr<WatchChannel> channel_;
  std::optional<uint64_t> handle_;
};

}  // namespace

grpc::ServerWriteReactor<emar::v1::JobEvent>* NewWatchReactor(ClientCore* core,
                                                              const std::string& job_id,
                                                              const Principal& who) {
  return new WatchReactor(core, job_id, who);
}

}  // namespace emar
