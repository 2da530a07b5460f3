#include "server/upload_reactor.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace emar {
namespace {

// Client-streaming upload: header in the first message, chunks in any. The blob becomes visible
// only after Commit verified size and digest.
class UploadReactor final : public grpc::ServerReadReactor<emar::v1::UploadBlobRequest> {
 public:
  UploadReactor(Coordinator* c, int64_t max_bytes, emar::v1::UploadBlobResponse* resp)
      : coordinator_(c), max_bytes_(max_bytes), resp_(resp) {
    StartRead(&msg_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {  // client half-closed: the upload is complete
      Finish(ToGrpcStatus(Commit()));
      return;
    }
    absl::Status s = Consume();
    if (!s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    StartRead(&msg_);
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (!started_) {
      started_ = true;
      sha_ = msg_.sha256();
      if (msg_.size_bytes() > max_bytes_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "blob of ", msg_.size_bytes(), " bytes exceeds the limit of ", max_bytes_));
      }
      if (coordinator_->blobs().Has(sha_)) {
        present_ = true;
      } else {
        auto w = coordinator_->blobs().StartWrite(sha_, msg_.size_bytes());
        if (!w.ok()) return w.status();
        writer_ = std::move(*w);
      }
      size_ = msg_.size_bytes();
    }
    if (present_) return absl::OkStatus();  // already stored: drain the stream
    return writer_->Append(msg_.chunk());
  }
  absl::Status Commit() {
    if (!started_)
      return absl::InvalidArgumentError(
          "empty upload: the first message needs sha256 and size_bytes");
    if (!present_) {
      absl::Status s = writer_->Commit();
      if (!s.ok()) return s;
    }
    resp_->set_sha256(sha_);
    resp_->set_size_bytes(size_);
    resp_->set_already_present(present_);
    return absl::OkStatus();
  }

  Coordinator* const coordinator_;
  const int64_t max_bytes_;
  emar::v1::UploadBlobResponse* const resp_;
  emar::v1::UploadBlobRequest msg_;
  bool started_ = false;
  bool present_ = false;
  std::string sha_;
  int64_t size_ = 0;
  std::unique_ptr<BlobStore::Writer> writer_;
};

}  // namespace

grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* NewUploadReactor(
    Coordinator* coordinator, int64_t max_blob_bytes, emar::v1::UploadBlobResponse* resp) {
  return new UploadReactor(coordinator, max_blob_bytes, resp);
}

}  // namespace emar
