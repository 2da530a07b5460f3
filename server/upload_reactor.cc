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
void EndCall(const std::shared_ptr<UploadCall>& call, const absl::Status& status);

}  // namespace

// Who ends an upload first, its own reactor (commit, error, cancellation) or the limiter's idle
// scan, wins; the state outlives the reactor because the scan may look at it after OnDone.
struct UploadCall {
  absl::Mutex mu;
  bool finished ABSL_GUARDED_BY(mu) = false;             // Finish is called, or about to be
  UploadReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null once done
  SteadyClock::time_point last_message ABSL_GUARDED_BY(mu);
  // Bytes received since window_start (the span the idle timeout measures progress over).
  int64_t window_bytes ABSL_GUARDED_BY(mu) = 0;
  SteadyClock::time_point window_start ABSL_GUARDED_BY(mu);
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
    bool admitted = false;
    std::shared_ptr<UploadCall> preempted;
    {
      absl::MutexLock lock(&call_->mu);
      call_->reactor = this;
      call_->last_message = call_->window_start = SteadyClock::now();
      admitted = limiter_ == nullptr || limiter_->TryAdmit(call_, who_.name, &preempted);
      if (admitted) {
        StartRead(&msg_);
      } else {
        refused = EndLocked(absl::ResourceExhaustedError(absl::StrCat(
            kUploadSlotsBusy, ": the coordinator takes at most ", limiter_->limits().max_concurrent,
            " at once (--max-uploads), and this principal holds its share of them; retry when "
            "one ends")));
      }
    }
    // Without this call's mutex (no two call mutexes are ever held together).
    if (preempted) {
      EndCall(preempted, absl::ResourceExhaustedError(
                             absl::StrCat(kUploadSlotsBusy,
                                          ": this upload's slot went to another principal: "
                                          "its principal held more than its share of "
                                          "--max-uploads; retry (the partial upload was "
                                          "discarded)")));
    }
    if (!admitted) Finish(refused);
  }

  void OnReadDone(bool ok) override {
    grpc::Status end;
    {
      absl::MutexLock lock(&call_->mu);
      if (call_->finished) return;  // ended meanwhile by the idle scan
      if (ok) {
        call_->last_message = SteadyClock::now();
        call_->window_bytes += static_cast<int64_t>(msg_.chunk().size());
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
    quota_.Release();  // committed bytes are the store's now; others are gone
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
        // Reserved, not only checked: uploads starting together cannot pass the quota together.
        ASSIGN_OR_RETURN(quota_, blobs_->ReserveQuota(msg_.size_bytes()));
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
  BlobAccess::Reservation quota_;
};

// Ends the upload `call` with `status`, unless it has ended already.
void EndCall(const std::shared_ptr<UploadCall>& call, const absl::Status& status) {
  UploadReactor* reactor = nullptr;
  grpc::Status end;
  {
    absl::MutexLock lock(&call->mu);
    if (call->finished || call->reactor == nullptr) return;
    reactor = call->reactor;
    end = reactor->EndLocked(status);
  }
  // Not yet deleted: a reactor is deleted only after its Finish, and only this call makes it.
  reactor->Finish(end);
}

// Why `call` is idle: no message for `timeout`, or too few bytes in the last `timeout` (a trickle
// holding a slot); empty when it is not. Starts a new progress window when one is over.
std::string IdleReason(UploadCall& call, absl::Duration timeout)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(call.mu) {
  const auto now = SteadyClock::now();
  const auto chrono_timeout = absl::ToChronoNanoseconds(timeout);
  if (now - call.last_message >= chrono_timeout) return "no message received";
  if (now - call.window_start < chrono_timeout) return "";
  if (call.window_bytes < kMinUploadProgressBytes) {
    return absl::StrCat("only ", call.window_bytes, " bytes received, fewer than ",
                        kMinUploadProgressBytes, " (a trickle holding its slot)");
  }
  call.window_start = now;
  call.window_bytes = 0;
  return "";
}

// Ends those of `calls` that are idle (IdleReason).
void EndIdle(const std::vector<std::shared_ptr<UploadCall>>& calls, absl::Duration timeout) {
  for (const std::shared_ptr<UploadCall>& call : calls) {
    std::string why;
    {
      absl::MutexLock lock(&call->mu);
      if (call->finished || call->reactor == nullptr) continue;
      why = IdleReason(*call, timeout);
    }
    if (why.empty()) continue;
    // Ended since? EndCall checks again under the call's mutex.
    EndCall(call, absl::DeadlineExceededError(absl::StrCat(
                      "upload idle for ", absl::FormatDuration(timeout),
                      " (--upload-idle-seconds): ", why, "; the partial upload was discarded")));
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

bool UploadLimiter::TryAdmit(std::shared_ptr<UploadCall> call, const std::string& principal,
                             std::shared_ptr<UploadCall>* preempted) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(active_.size()) >= limits_.max_concurrent) {
    absl::flat_hash_map<std::string, int> held;
    for (const auto& [key, slot] : active_) ++held[slot.principal];
    const int holders = static_cast<int>(held.size()) + (held.contains(principal) ? 0 : 1);
    const int share = std::max(1, limits_.max_concurrent / holders);
    if (held[principal] >= share) return false;
    std::string top;
    int most = 0;
    for (const auto& [who, n] : held) {
      if (n > most) {
        top = who;
        most = n;
      }
    }
    if (most <= share) return false;  // everyone within their share: wait for a slot
    const Slot* oldest = nullptr;
    for (const auto& [key, slot] : active_) {
      if (slot.principal == top && (oldest == nullptr || slot.admitted < oldest->admitted)) {
        oldest = &slot;
      }
    }
    *preempted = oldest->call;
    active_.erase(oldest->call.get());
  }
  const UploadCall* key = call.get();
  active_.emplace(key, Slot{std::move(call), principal, admissions_++});
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
    for (const auto& [key, slot] : active_) calls.push_back(slot.call);
  }
  EndIdle(calls, limits_.idle_timeout);  // without mu_: call mutexes come first
}

grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* NewUploadReactor(
    BlobAccess* blobs, UploadLimiter* limiter, int64_t max_blob_bytes, int64_t max_message_bytes,
    const Principal& who, emar::v1::UploadBlobResponse* resp) {
  return new UploadReactor(blobs, limiter, max_blob_bytes, max_message_bytes, who, resp);
}

}  // namespace emar
