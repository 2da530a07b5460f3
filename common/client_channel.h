// Channels from emarctl and emar-worker to the coordinator: TLS from PEM files (plaintext when
// none are given), a bearer token on every call, and one-line hints for the connection and
// authentication errors those settings cause.
//
//   ASSIGN_OR_RETURN(std::string token, ResolveToken(absl::GetFlag(FLAGS_token_file)));
//   ASSIGN_OR_RETURN(auto channel, OpenChannel({.target = "127.0.0.1:50051",
//                                               .tls = {.ca = "ca.crt"}, .token = token}, {}));
//   ...
//   std::string hint = ConnectionHint(status, !token.empty(), /*uses_tls=*/true);
#ifndef EMAR_COMMON_CLIENT_CHANNEL_H_
#define EMAR_COMMON_CLIENT_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls_credentials.h"

namespace emar {

// The environment variable holding the token when --token-file is not given.
inline constexpr char kTokenEnvironmentVariable[] = "EMAR_TOKEN";

struct ClientConnectionOptions {
  std::string target;  // HOST:PORT of the coordinator
  ClientTlsFiles tls;  // all empty: plaintext
  std::string token;   // empty: no authorization header
};

// The bearer token: the content of `token_file` with surrounding whitespace stripped when the
// path is non-empty, else $EMAR_TOKEN (stripped the same way), else "" (no token). An unreadable
// or empty file, or a token holding whitespace or control characters, is INVALID_ARGUMENT naming
// --token-file (or EMAR_TOKEN) and the path.
absl::StatusOr<std::string> ResolveToken(const std::string& token_file);

// A channel to options.target with credentials from ChannelCredentialsFromFiles(options.tls).
// With a token every call carries `authorization: Bearer TOKEN`, added by a client interceptor
// rather than by call credentials, which gRPC refuses to send over plaintext (plaintext with a
// token on loopback must work). INVALID_ARGUMENT naming the flag for bad TLS files.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ClientConnectionOptions& options,
                                                           const grpc::ChannelArguments& args);

// A one-line hint for a call that failed with `status`, or "" when none applies: a missing or
// rejected token, a token of the wrong role, an untrusted or misnamed server certificate, a
// plaintext client against a TLS coordinator and the reverse, and a coordinator requiring (or
// not accepting) a client certificate. `has_token`, `uses_tls`, `has_client_cert`: what the
// failed call was made with. Matches the messages of gRPC 1.51 with OpenSSL 3 or BoringSSL;
// anything it does not recognise gets no hint.
std::string ConnectionHint(const grpc::Status& status, bool has_token, bool uses_tls,
                           bool has_client_cert = false);
std::string ConnectionHint(const absl::Status& status, bool has_token, bool uses_tls,
                           bool has_client_cert = false);

}  // namespace emar

#endif  // EMAR_COMMON_CLIENT_CHANNEL_H_
