// Server errors whose text is for the server's operators only. A status built from a failed
// system call on the coordinator names its data directory ("/var/lib/emar/tmp/...: write
// failed: No space left on device"); a client must learn the condition, not the server's
// layout. WithClientMessage attaches the text a client may see; ToGrpcStatus
// (common/grpc_status.h) sends that instead and writes the full message to the server's stderr.
//
//   return WithClientMessage(absl::ResourceExhaustedError(absl::StrCat(path, ": ", why)),
//                            "the coordinator's storage is full");
#ifndef EMAR_COMMON_CLIENT_MESSAGE_H_
#define EMAR_COMMON_CLIENT_MESSAGE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace emar {

inline constexpr absl::string_view kClientMessagePayload = "type.emar/client-message";

// `s` (not OK) with `message` as what a client is told.
inline absl::Status WithClientMessage(absl::Status s, absl::string_view message) {
  s.SetPayload(kClientMessagePayload, absl::Cord(message));
  return s;
}

// The client's text of `s`, when it has one.
inline std::optional<std::string> ClientMessage(const absl::Status& s) {
  auto m = s.GetPayload(kClientMessagePayload);  // absl::optional<absl::Cord>
  if (!m.has_value()) return std::nullopt;
  return std::string(*m);
}

}  // namespace emar

#endif  // EMAR_COMMON_CLIENT_MESSAGE_H_
