#include "server/call_guard.h"

#include "absl/strings/str_cat.h"

namespace emar {

absl::StatusOr<Principal> CallGuard::Admit(const grpc::CallbackServerContext& ctx,
                                           const google::protobuf::Message* req) const {
  if (req != nullptr && max_request_bytes_ > 0) {
    const size_t size = req->ByteSizeLong();
    if (static_cast<int64_t>(size) > max_request_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(req->GetDescriptor()->name(), " of ", size,
                                                       " bytes exceeds --max-request-kb (",
                                                       max_request_bytes_ >> 10, " KiB)"));
    }
  }
  return auth_ == nullptr ? Principal::Anonymous() : auth_->Authorize(ctx, api_);
}

}  // namespace emar
