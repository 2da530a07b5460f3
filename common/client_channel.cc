#include "common/client_channel.h"

#include <grpcpp/support/client_interceptor.h>

#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace emar {
namespace {

// Adds `authorization: Bearer TOKEN` to the initial metadata of every call.
class BearerTokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(std::string header) : header_(std::move(header)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", header_);
    }
    methods->Proceed();
  }

 private:
  const std::string header_;
};

class BearerTokenInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenInterceptorFactory(const std::string& token)
      : header_(absl::StrCat("Bearer ", token)) {}

  // gRPC owns and deletes the interceptor when the call ends.
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new BearerTokenInterceptor(header_);
  }

 private:
  const std::string header_;
};

// A token goes into an HTTP/2 header: printable ASCII without spaces.
absl::Status CheckToken(const std::string& token, const std::string& source) {
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": the token must be printable ASCII without spaces or line breaks"));
    }
  }
  return absl::OkStatus();
}

// Case-insensitive: OpenSSL and BoringSSL spell the same reason differently.
bool ContainsAny(absl::string_view text, std::initializer_list<absl::string_view> needles) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (absl::string_view n : needles) {
    if (absl::StrContains(lower, absl::AsciiStrToLower(n))) return true;
  }
  return false;
}

std::string Hint(absl::StatusCode code, absl::string_view message, bool has_token, bool uses_tls,
                 bool has_client_cert) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
      return has_token ? "the coordinator did not accept the token (check --token-file / "
                         "EMAR_TOKEN)"
                       : "no token: set EMAR_TOKEN or --token-file";
    case absl::StatusCode::kPermissionDenied:
      return "the token's role may not call this (client tokens for emarctl, worker tokens for "
             "emar-worker)";
    case absl::StatusCode::kUnavailable:
      break;
    default:
      return "";
  }
  // gRPC 1.51 reports a connection it could not set up as UNAVAILABLE "failed to connect to all
  // addresses; last error: UNKNOWN: ipv4:127.0.0.1:PORT: Ssl handshake failed: SSL_ERROR_SSL:
  // error:0A000086:SSL routines::certificate verify failed" (OpenSSL 3; BoringSSL spells it
  // CERTIFICATE_VERIFY_FAILED).
  if (ContainsAny(message, {"certificate verify failed", "CERTIFICATE_VERIFY_FAILED"})) {
    return "certificate not trusted: pass --tls-ca FILE (the CA that signed the coordinator's "
           "certificate)";
  }
  // "... Peer name 127.0.0.1 is not in peer certificate".
  if (ContainsAny(message, {"is not in peer certificate"})) {
    return "the coordinator's certificate does not name the address in --server: connect by a "
           "name or IP address in its subjectAltName";
  }
  // A TLS alert, when gRPC gets to read it before the connection closes.
  if (ContainsAny(message, {"certificate required", "peer did not return a certificate"})) {
    return "the coordinator requires a client certificate: pass --tls-cert and --tls-key";
  }
  // A TLS client against a plaintext port: "... SSL routines::wrong version number".
  if (uses_tls && ContainsAny(message, {"wrong version number", "packet length too long",
                                        "http request", "record layer failure"})) {
    return "the coordinator does not seem to serve TLS: leave out --tls-ca, --tls-cert and "
           "--tls-key";
  }
  // The peer hung up while the connection was being set up ("... ipv4:127.0.0.1:PORT: Socket
  // closed"): a TLS server drops a plaintext client, and a mutual-TLS server (TLS 1.3) drops a
  // client whose certificate it does not accept, without the client hearing why. Calls that
  // lost an established connection (a coordinator restart) are not meant.
  if (ContainsAny(message, {"failed to connect"}) &&
      ContainsAny(message, {"Socket closed", "Connection reset by peer", "Broken pipe",
                            "end of file", "unexpected eof"})) {
    if (!uses_tls) return "is the coordinator serving TLS? pass --tls-ca FILE";
    if (!has_client_cert) {
      return "the coordinator requires a client certificate: pass --tls-cert and --tls-key";
    }
    return "the coordinator closed the TLS connection: does it trust the CA that signed "
           "--tls-cert?";
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> ResolveToken(const std::string& token_file) {
  if (!token_file.empty()) {
    const std::string source = absl::StrCat("--token-file ", token_file);
    absl::StatusOr<std::string> text = ReadFileToString(token_file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": cannot read: ", text.status().message()));
    }
    std::string token(absl::StripAsciiWhitespace(*text));
    if (token.empty())
      return absl::InvalidArgumentError(absl::StrCat(source, ": the file is empty"));
    if (absl::Status s = CheckToken(token, source); !s.ok()) return s;
    return token;
  }
  const char* env = std::getenv(kTokenEnvironmentVariable);
  if (env == nullptr) return std::string();
  std::string token(absl::StripAsciiWhitespace(env));
  if (absl::Status s = CheckToken(token, kTokenEnvironmentVariable); !s.ok()) return s;
  return token;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ClientConnectionOptions& options,
                                                           const grpc::ChannelArguments& args) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      ChannelCredentialsFromFiles(options.tls);
  if (!creds.ok()) return creds.status();
  if (options.token.empty()) return grpc::CreateCustomChannel(options.target, *creds, args);
  if (absl::Status s = CheckToken(options.token, "the token"); !s.ok()) return s;
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<BearerTokenInterceptorFactory>(options.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(options.target, *creds, args,
                                                                 std::move(factories));
}

std::string ConnectionHint(const grpc::Status& status, bool has_token, bool uses_tls,
                           bool has_client_cert) {
  if (status.ok()) return "";
  return Hint(static_cast<absl::StatusCode>(status.error_code()), status.error_message(), has_token,
              uses_tls, has_client_cert);
}

std::string ConnectionHint(const absl::Status& status, bool has_token, bool uses_tls,
                           bool has_client_cert) {
  if (status.ok()) return "";
  return Hint(status.code(), status.message(), has_token, uses_tls, has_client_cert);
}

}  // namespace emar
