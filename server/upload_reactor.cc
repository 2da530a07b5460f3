#include "server/upload_reactor.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace emar {
namespace {

using SteadyClock = std::chrono::steady_clock;

class UploadReactor;

}  // namespace

// Who ends an upload first, its own reactor (commit, error, cancellation) or the limiter's idle
// scan, wins; the state outlives the reactor because the scan may look at it after OnDone.
struct UploadCall {
  absl::Mutex mu;
  bool finished ABSL_GUARDED_BY(mu) = false;             // Finish is called, or about to be
  UploadReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null once done
  SteadyClock::time_point last_message ABSL_GUARDED_BY(mu);
};

namespace {

// Client-streaming upload: header in the first message, chunks in any. The blob becomes visible
// only after Commit verified size and digest. Every member but call_ is guarded by call_->mu once
// the constructor has returned.
class UploadReactor final : public grpc::ServerReadReactor<emar::v1::UploadBlobRequest> {
 public:
  UploadReactor(BlobAccess* blobs, UploadLimiter* limiter, int64_t max_bytes,
                int64_t max_message_bytes, const Principal& who, emar::v1::UploadBlobResponse* resp)
      : blobs_(blobs),
        limiter_(limiter),
        who_(who),
        max_bytes_(max_bytes),
        max_message_bytes_(max_message_bytes),
        resp_(resp),
        call_(std::make_shared<UploadCall>()) {
    grpc::Status refused;
    {
      absl::MutexLock lock(&call_->mu);
      call_->reactor = this;
      call_->last_message = SteadyClock::now();
      if (limiter_ == nullptr || limiter_->TryAdmit(call_)) {
        StartRead(&msg_);
        return;
      }
      refused = EndLocked(absl::ResourceExhaustedError(absl::StrCat(
          kUploadSlotsBusy, ": the coordinator takes at most ", limiter_->limits().max_concurrent,
          " at once (--max-uploads); retry when one ends")));
    }
    Finish(refused);
  }

  void OnReadDone(bool ok) override {
    grpc::Status end;
    {
      absl::MutexLock lock(&call_->mu);
      if (call_->finished) return;  // ended meanwhile by the idle scan
      if (ok) {
        call_->last_message = SteadyClock::now();
        absl::Status s = Consume();
        if (s.ok()) {
          StartRead(&msg_);
          return;
        }
        end = EndLocked(s);
      } else {  // half-closed (the upload is complete) or cancelled (Commit finds it short)
        end = EndLocked(Commit());
      }
    }
    Finish(end);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&call_->mu);
      call_->reactor = nullptr;
    }
    if (limiter_ != nullptr) limiter_->Release(call_.get());  // already done by EndLocked
    delete this;
  }

  // Marks the upload finished, removes its temporary file (unless committed) and frees its slot;
  // the caller then calls Finish with the result, after releasing call_->mu.
  grpc::Status EndLocked(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(call_->mu) {
    call_->finished = true;
    if (limiter_ != nullptr) limiter_->Release(call_.get());
    writer_.reset();
    return ToGrpcStatus(s);
  }

 private:
  absl::Status Consume() ABSL_EXCLUSIVE_LOCKS_REQUIRED(call_->mu) {
    if (static_cast<int64_t>(msg_.chunk().size()) > max_message_bytes_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("upload chunk of ", msg_.chunk().size(), " bytes exceeds --max-request-kb (",
                       max_message_bytes_ >> 10, " KiB); send smaller chunks"));
    }
    if (!started_) {
      started_ = true;
      sha_ = msg_.sha256();
      if (msg_.size_bytes() > max_bytes_) {
        return absl::ResourceExhaustedError(absl::StrCat("blob of ", msg_.size_bytes(),
                                                         " bytes exceeds --max-blob-mb (",
                                                         max_bytes_ >> 20, " MiB)"));
      }
      if (blobs_->HasFor(sha_, who_)) {
        present_ = true;
      } else {
        RETURN_IF_ERROR(blobs_->CheckQuota(msg_.size_bytes()));
        auto w = blobs_->bytes().StartWrite(sha_, msg_.size_bytes());
        if (!w.ok()) return w.status();
        writer_ = std::move(*w);
      }
      size_ = msg_.size_bytes();
    }
    if (present_) return absl::OkStatus();  // already stored: drain the stream
    return writer_->Append(msg_.chunk());
  }

  absl::Status Commit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(call_->mu) {
    if (!started_)
      return absl::InvalidArgumentError(
          "empty upload: the first message needs sha256 and size_bytes");
    if (!present_) {
      absl::Status s = writer_->Commit();
      if (!s.ok()) return s;
      // Verified content: the uploader may use it (another principal's copy was not enough).
      s = blobs_->RecordUpload(sha_, who_);
      if (!s.ok()) return s;
    }
    resp_->set_sha256(sha_);
    resp_->set_size_bytes(size_);
    resp_->set_already_present(present_);
    return absl::OkStatus();
  }

  BlobAccess* const blobs_;
  UploadLimiter* const limiter_;  // null: no limits
  const Principal who_;
  const int64_t max_bytes_;
  const int64_t max_message_bytes_;
  emar::v1::UploadBlobResponse* const resp_;
  const std::shared_ptr<UploadCall> call_;
  emar::v1::UploadBlobRequest msg_;
  bool started_ = false;
  bool present_ = false;
  std::string sha_;
  int64_t size_ = 0;
  std::unique_ptr<BlobStore::Writer> writer_;
};

// Ends those of `calls` that have received no message for `timeout`.
void EndIdle(const std::vector<std::shared_ptr<UploadCall>>& calls, absl::Duration timeout) {
  const auto chrono_timeout = absl::ToChronoNanoseconds(timeout);
  for (const std::shared_ptr<UploadCall>& call : calls) {
    UploadReactor* reactor = nullptr;
    grpc::Status end;
    {
      absl::MutexLock lock(&call->mu);
      if (call->finished || call->reactor == nullptr) continue;
      if (SteadyClock::now() - call->last_message < chrono_timeout) continue;
      reactor = call->reactor;
      end = reactor->EndLocked(absl::DeadlineExceededError(
          absl::StrCat("upload idle for ", absl::FormatDuration(timeout),
                       " (--upload-idle-seconds): no message received; the partial upload was "
                       "discarded")));
    }
    // Not yet deleted: a reactor is deleted only after its Finish, and only this call makes it.
    reactor->Finish(end);
  }
}

}  // namespace

UploadLimiter::UploadLimiter(UploadLimits limits) : limits_(limits) {
  if (limits_.idle_timeout != absl::InfiniteDuration()) {
    // The timeout is honoured to within a quarter of itself (at most a second late).
    scanner_ = std::make_unique<PeriodicTask>(
        std::clamp(limits_.idle_timeout / 4, absl::Milliseconds(10), absl::Seconds(1)),
        [this] { Scan(); });
  }
}

UploadLimiter::~UploadLimiter() { scanner_.reset(); }

int UploadLimiter::in_progress() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(active_.size());
}

bool UploadLimiter::TryAdmit(std::shared_ptr<UploadCall> call) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(active_.size()) >= limits_.max_concurrent) return false;
  const UploadCall* key = call.get();
  active_.emplace(key, std::move(call));
  return true;
}

void UploadLimiter::Release(const UploadCall* call) {
  absl::MutexLock lock(&mu_);
  active_.erase(call);
}

void UploadLimiter::Scan() {
  std::vector<std::shared_ptr<UploadCall>> calls;
  {
    absl::MutexLock lock(&mu_);
    calls.reserve(active_.size());
    for (const auto& [key, call] : active_) calls.push_back(call);
  }
  EndIdle(calls, limits_.idle_timeout);  // without mu_: call mutexes come first
}

grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* NewUploadReactor(
    BlobAccess* blobs, UploadLimiter* limiter, int64_t max_blob_bytes, int64_t max_message_bytes,
    const Principal& who, emar::v1::UploadBlobResponse* resp) {
  return new UploadReactor(blobs, limiter, max_blob_bytes, max_message_bytes, who, resp);
}

}  // namespace emar
