#include "client/upload_pipeline.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/parallel_for.h"
#include "common/sha256.h"

namespace emar {
namespace {

class Pipeline {
 public:
  Pipeline(const std::vector<UploadFile>& files, const UploadCalls& calls,
           const TransferCallback& on_transfer)
      : files_(files),
        calls_(calls),
        on_transfer_(on_transfer),
        digests_(files.size(), absl::UnknownError("not hashed")) {
    for (const UploadFile& f : files_) total_ += f.size;
    upload_total_ = total_;
  }

  absl::StatusOr<std::vector<std::string>> Run() {
    std::thread hasher([this] { Hash(); });
    std::set<std::string> asked;  // two files with the same content are one blob
    for (size_t k = 0; k < files_.size() && failed_.ok(); ++k) AskAndUpload(k, asked);
    while (!uploads_.empty()) SettleOldest();
    stop_hashing_ = true;
    hasher.join();
    if (!failed_.ok()) return failed_;
    std::vector<std::string> digests;
    for (absl::StatusOr<std::string>& d : digests_) digests.push_back(std::move(*d));
    return digests;
  }

 private:
  struct InFlight {
    std::shared_future<absl::Status> done;
    std::shared_future<void> sent;  // its last byte is sent (or it failed)
  };

  // "hashing" until every file is hashed, then "uploading". Called from the caller's thread, the
  // hasher and the uploads.
  void Report() {
    if (!on_transfer_) return;
    if (hashing_done_.load()) {
      on_transfer_("uploading", sent_.load(), upload_total_.load());
    } else {
      on_transfer_("hashing", hashed_.load(), total_);
    }
  }

  // The hasher thread: every file in order, until done or told to stop.
  void Hash() {
    for (size_t k = 0; k < files_.size() && !stop_hashing_.load(); ++k) {
      Report();
      absl::StatusOr<std::string> sha = Sha256OfFile(files_[k].path);
      hashed_ += files_[k].size;
      absl::MutexLock lock(&mu_);
      digests_[k] = std::move(sha);
      hashed_files_ = k + 1;
    }
    hashing_done_ = true;
    Report();
    absl::MutexLock lock(&mu_);
    hashed_files_ = files_.size();  // stopped early: the rest stay "not hashed", never read
  }

  // Waits for file k's digest, asks the coordinator about it, and starts its upload if missing.
  void AskAndUpload(size_t k, std::set<std::string>& asked) {
    {
      absl::MutexLock lock(&mu_);
      auto hashed_k = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return hashed_files_ > k; };
      mu_.Await(absl::Condition(&hashed_k));
    }
    // Written by the hasher before hashed_files_ passed k (under mu_), never again.
    const absl::StatusOr<std::string>& digest = digests_[k];
    if (!digest.ok()) {
      failed_ = absl::Status(
          digest.status().code(),
          absl::StrCat("job spec field '", files_[k].field, "': ", digest.status().message()));
      return;
    }
    const std::string sha = *digest;
    if (!asked.insert(sha).second) {
      upload_total_ -= files_[k].size;  // the same content as an earlier file
      return;
    }
    absl::StatusOr<bool> missing = calls_.is_missing(sha);
    if (!missing.ok()) {
      failed_ = missing.status();
      return;
    }
    if (!*missing) {
      upload_total_ -= files_[k].size;
      Report();
      return;
    }
    if (!uploads_.empty()) uploads_.back().sent.wait();  // one transfer at a time
    while (uploads_.size() >= 2) SettleOldest();         // and one more awaiting its fsync
    if (!failed_.ok()) return;
    StartUpload(k, sha);
  }

  void StartUpload(size_t k, const std::string& sha) {
    auto all_sent = std::make_shared<std::promise<void>>();
    InFlight u;
    u.sent = all_sent->get_future().share();
    std::shared_future<absl::Status> previous =
        uploads_.empty() ? std::shared_future<absl::Status>() : uploads_.back().done;
    u.done = std::async(std::launch::async, [this, k, sha, all_sent, previous] {
               std::once_flag once;
               auto signal_sent = [&] { std::call_once(once, [&] { all_sent->set_value(); }); };
               absl::Status s = UploadRetryingForASlot(files_[k].path, sha, previous, signal_sent);
               signal_sent();
               return s;
             }).share();
    uploads_.push_back(std::move(u));
  }

  // The upload, retried when refused for want of a slot while `previous` (the upload before it,
  // if any) may hold one: the previous upload holds a slot until it is acknowledged, and this
  // one may take the one it frees. So: once that one has ended, then a few times more, briefly.
  // A coordinator kept busy by others is still an error at once, as with one upload at a time.
  absl::Status UploadRetryingForASlot(const std::string& path, const std::string& sha,
                                      const std::shared_future<absl::Status>& previous,
                                      const std::function<void()>& on_sent) {
    int64_t reported = 0;
    auto on_chunk = [&](int64_t sent_in_file) {
      sent_ += sent_in_file - reported;
      reported = sent_in_file;
      Report();
    };
    absl::Status s = calls_.upload(path, sha, on_chunk, on_sent);
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
      sent_ -= reported;
      reported = 0;
      s = calls_.upload(path, sha, on_chunk, on_sent);
    }
    return s;
  }

  void SettleOldest() {
    absl::Status s = uploads_.front().done.get();
    uploads_.pop_front();
    if (failed_.ok()) failed_ = s;
  }

  const std::vector<UploadFile>& files_;
  const UploadCalls& calls_;
  const TransferCallback& on_transfer_;
  int64_t total_ = 0;  // bytes of all files; constant once Run starts

  absl::Mutex mu_;
  // Written by the hasher; entry k is read by the caller's thread once hashed_files_ > k.
  std::vector<absl::StatusOr<std::string>> digests_;
  size_t hashed_files_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<bool> stop_hashing_{false}, hashing_done_{false};
  std::atomic<int64_t> hashed_{0}, sent_{0};
  // Bytes to send: every file the coordinator lacks or may lack (not asked about yet). It starts
  // at the whole and only shrinks, as files are found present or are duplicates, so the total is
  // known before the first byte goes up; only a total of 0 means nothing to send.
  std::atomic<int64_t> upload_total_{0};

  // The caller's thread only.
  std::deque<InFlight> uploads_;
  absl::Status failed_;
};

// The embedded mode: every file imported into the coordinator's store, two at a time, the
// largest first (each file is one thread's, so a large one left for last would run alone);
// progress is "reading", by files' bytes. After a failure no further file is started; the
// error reported is the first in the spec's order among the files tried.
absl::StatusOr<std::vector<std::string>> ImportInputs(const std::vector<UploadFile>& files,
                                                      const UploadCalls& calls,
                                                      const TransferCallback& on_transfer) {
  std::vector<std::optional<absl::StatusOr<std::string>>> digests(files.size());
  std::vector<size_t> order(files.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return files[a].size > files[b].size; });
  int64_t total = 0;
  for (const UploadFile& f : files) total += f.size;
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  if (on_transfer) on_transfer("reading", 0, total);
  ParallelFor(order.size(), 2, [&](size_t i) {
    if (failed.load()) return;
    const size_t k = order[i];
    digests[k] = calls.import_file(files[k].path);
    if (!digests[k]->ok()) failed = true;
    done += files[k].size;
    if (on_transfer) on_transfer("reading", done.load(), total);
  });
  for (size_t k = 0; k < files.size(); ++k) {
    if (digests[k] && !digests[k]->ok()) {
      return absl::Status(
          digests[k]->status().code(),
          absl::StrCat("job spec field '", files[k].field, "': ", digests[k]->status().message()));
    }
  }
  std::vector<std::string> out;
  for (size_t k = 0; k < files.size(); ++k) out.push_back(std::move(**digests[k]));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> UploadInputs(const std::vector<UploadFile>& files,
                                                      const UploadCalls& calls,
                                                      const TransferCallback& on_transfer) {
  if (calls.import_file) return ImportInputs(files, calls, on_transfer);
  return Pipeline(files, calls, on_transfer).Run();
}

}  // namespace emar
