// The one place absl::Status becomes grpc::Status.
#ifndef EMAR_COMMON_GRPC_STATUS_H_
#define EMAR_COMMON_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/status.h>

#include <iostream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/client_message.h"

namespace emar {

// Status messages travel in HTTP/2 trailers (8 KiB by default in gRPC): a longer one would
// reach the client as "metadata size exceeds limit" instead of the error. Messages are cut here.
inline constexpr size_t kMaxStatusMessageBytes = 2048;

// How the coordinator's RESOURCE_EXHAUSTED for want of an upload slot (--max-uploads) begins;
// a client whose own earlier upload may still hold a slot retries on it.
inline constexpr absl::string_view kUploadSlotsBusy = "too many uploads in progress";

// `message` cut to kMaxStatusMessageBytes at a UTF-8 boundary, saying how much was left out.
inline std::string TruncatedStatusMessage(absl::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  size_t cut = kMaxStatusMessageBytes - 64;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(message.substr(0, cut), "... (", message.size() - cut, " more bytes)");
}

// A status with a client message (common/client_message.h) sends that message; its full text,
// which may name server paths, goes to stderr (the server's log) instead.
inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  if (std::optional<std::string> client = ClientMessage(s); client.has_value()) {
    std::cerr << "error answered as \"" << *client << "\": " << s.message() << std::endl;
    return grpc::Status(static_cast<grpc::StatusCode>(s.code()), TruncatedStatusMessage(*client));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), TruncatedStatusMessage(s.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// Finishes a unary callback-API call with `s` and returns its reactor.
inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const absl::Status& s) {
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpcStatus(s));
  return r;
}

}  // namespace emar

#endif  // EMAR_COMMON_GRPC_STATUS_H_
