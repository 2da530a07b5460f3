#include "server/flips_reactor.h"

#include <utility>
#include <vector>

#include "server/call_guard.h"

namespace emar {
namespace {

class FlipsReactor final : public grpc::ServerWriteReactor<emar::v1::FlipItem> {
 public:
  explicit FlipsReactor(std::vector<emar::v1::FlipItem> items) : items_(std::move(items)) {
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  // Only one write is ever in flight: the next starts from the previous one's OnWriteDone.
  void WriteNext() {
    if (next_ == items_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&items_[next_++]);
  }

  std::vector<emar::v1::FlipItem> items_;
  size_t next_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<emar::v1::FlipItem>* NewFlipsReactor(
    ClientCore* core, const emar::v1::ListFlipsRequest& request, const Principal& who) {
  // Read from the store on this thread, as GetSeries reads its reports: a listing is bounded by
  // one dataset's statistics and two outputs files per candidate.
  absl::StatusOr<std::vector<emar::v1::FlipItem>> items = core->ListFlips(request, who);
  if (!items.ok()) {
    return RefusedStream<grpc::ServerWriteReactor<emar::v1::FlipItem>>(items.status());
  }
  return new FlipsReactor(std::move(*items));
}

}  // namespace emar
