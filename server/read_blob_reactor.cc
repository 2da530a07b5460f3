#include "server/read_blob_reactor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace emar {
namespace {

// Streams a blob range in 1 MiB chunks, reading each from disk when the previous one is sent.
class ReadBlobReactor final : public grpc::ServerWriteReactor<emar::v1::ReadBlobResponse> {
 public:
  ReadBlobReactor(BlobStore* blobs, const emar::v1::BlobRange& range)
      : blobs_(blobs), range_(range) {
    auto size = blobs_->Size(range.sha256());
    if (!size.ok()) {
      Finish(ToGrpcStatus(size.status()));
      return;
    }
    // Checked without overflow: offset + length may not fit in 64 bits.
    if (range.offset() < 0 || range.offset() > *size ||
        (range.length() >= 0 && range.length() > *size - range.offset())) {
      Finish(ToGrpcStatus(absl::OutOfRangeError(
          absl::StrCat("range at offset ", range.offset(), " of length ", range.length(),
                       " is outside blob ", range.sha256(), " of ", *size, " bytes"))));
      return;
    }
    const int64_t end = range.length() < 0 ? *size : range.offset() + range.length();
    next_ = range.offset();
    end_ = end;
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "reader went away"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (next_ >= end_ && sent_any_) {
      Finish(grpc::Status::OK);
      return;
    }
    const int64_t len = std::min<int64_t>(kChunk, end_ - next_);
    auto data = blobs_->Read(range_.sha256(), next_, len);
    if (!data.ok()) {
      Finish(ToGrpcStatus(data.status()));
      return;
    }
    next_ += len;
    sent_any_ = true;
    msg_.set_chunk(std::move(*data));
    StartWrite(&msg_);
  }

  static constexpr int64_t kChunk = 1 << 20;
  BlobStore* const blobs_;
  const emar::v1::BlobRange range_;
  emar::v1::ReadBlobResponse msg_;
  int64_t next_ = 0, end_ = 0;
  bool sent_any_ = false;
};

}  // namespace

grpc::ServerWriteReactor<emar::v1::ReadBlobResponse>* NewReadBlobReactor(
    BlobStore* blobs, const emar::v1::BlobRange& range) {
  return new ReadBlobReactor(blobs, range);
}

}  // namespace emar
