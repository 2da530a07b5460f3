// Client channels: where the token comes from, that every call on a channel carries it (checked
// by a real gRPC server on loopback), and the hints for failed calls.
#include "common/client_channel.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/client_channel_test.", name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

// Sets or unsets EMAR_TOKEN for one test and puts back what was there.
class ScopedTokenEnv {
 public:
  explicit ScopedTokenEnv(const char* value) {
    if (const char* old = getenv(kTokenEnvironmentVariable)) old_ = old;
    if (value) {
      setenv(kTokenEnvironmentVariable, value, 1);
    } else {
      unsetenv(kTokenEnvironmentVariable);
    }
  }
  ~ScopedTokenEnv() {
    if (old_) {
      setenv(kTokenEnvironmentVariable, old_->c_str(), 1);
    } else {
      unsetenv(kTokenEnvironmentVariable);
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST(ResolveTokenTest, FileWinsOverEnvironmentAndIsStripped) {
  ScopedTokenEnv env("from-env");
  const std::string path = WriteTempFile("token", "  from-file\n\n");
  ASSERT_OK_AND_ASSIGN(std::string token, ResolveToken(path));
  EXPECT_EQ(token, "from-file");
}

TEST(ResolveTokenTest, EnvironmentWhenNoFileIsGiven) {
  ScopedTokenEnv env(" from-env\n");
  ASSERT_OK_AND_ASSIGN(std::string token, ResolveToken(""));
  EXPECT_EQ(token, "from-env");
}

TEST(ResolveTokenTest, NoTokenAtAll) {
  ScopedTokenEnv env(nullptr);
  ASSERT_OK_AND_ASSIGN(std::string token, ResolveToken(""));
  EXPECT_EQ(token, "");
}

TEST(ResolveTokenTest, EmptyFileIsAnErrorNamingTheFlagAndPath) {
  ScopedTokenEnv env("from-env");
  const std::string path = WriteTempFile("empty", " \n\t\n");
  EXPECT_THAT(ResolveToken(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--token-file"), HasSubstr(path), HasSubstr("empty"))));
}

TEST(ResolveTokenTest, UnreadableFileIsAnErrorNamingTheFlagAndPath) {
  ScopedTokenEnv env("from-env");
  const std::string path = absl::StrCat(::testing::TempDir(), "/client_channel_test.missing");
  EXPECT_THAT(ResolveToken(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                           AllOf(HasSubstr("--token-file"), HasSubstr(path),
                                                 HasSubstr("cannot read"))));
  EXPECT_THAT(ResolveToken(::testing::TempDir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--token-file")));
}

TEST(ResolveTokenTest, TokensThatCannotBeAHeaderValueAreRefused) {
  ScopedTokenEnv env("two words");
  EXPECT_THAT(ResolveToken(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(kTokenEnvironmentVariable)));
  const std::string path = WriteTempFile("lines", "line-one\nline-two\n");
  EXPECT_THAT(ResolveToken(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--token-file")));
}

// A server answering every method: the response is the call's `authorization` header, or
// UNAUTHENTICATED when it has none.
class AuthorizationEchoService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new Reactor(ctx);
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(grpc::GenericCallbackServerContext* ctx) {
      const auto& md = ctx->client_metadata();
      auto it = md.find("authorization");
      if (it == md.end()) {
        Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no authorization header"));
        return;
      }
      grpc::Slice slice(std::string(it->second.data(), it->second.size()));
      response_ = grpc::ByteBuffer(&slice, 1);
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };
};

class LoopbackServer {
 public:
  LoopbackServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~LoopbackServer() { server_->Shutdown(); }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  bool up() const { return server_ != nullptr && port_ > 0; }

 private:
  AuthorizationEchoService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// One unary call of an arbitrary method; the response as text.
absl::StatusOr<std::string> Call(const std::shared_ptr<grpc::Channel>& channel,
                                 grpc::Status* status_out = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(std::string("ping"));
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, "/emar.test.Echo/Authorization", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (status_out) *status_out = status;
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("cannot read the response");
  std::string text;
  for (const grpc::Slice& s : slices)
    text.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return text;
}

TEST(OpenChannelTest, EveryCallCarriesTheBearerTokenOverPlaintext) {
  LoopbackServer server;
  ASSERT_TRUE(server.up());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> channel,
                       OpenChannel({.target = server.target(), .token = "s3cret-token"}, {}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string authorization, Call(channel));
    EXPECT_EQ(authorization, "Bearer s3cret-token") << "call " << i;
  }
}

TEST(OpenChannelTest, NoTokenNoHeader) {
  LoopbackServer server;
  ASSERT_TRUE(server.up());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> channel,
                       OpenChannel({.target = server.target()}, {}));
  grpc::Status status;
  EXPECT_THAT(Call(channel, &status),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("no authorization header")));
  // The hint a client prints for this answer.
  EXPECT_EQ(ConnectionHint(status, /*has_token=*/false, /*uses_tls=*/false),
            "no token: set EMAR_TOKEN or --token-file");
}

TEST(OpenChannelTest, BadTlsFilesAndTokensAreRefusedBeforeConnecting) {
  EXPECT_THAT(OpenChannel({.target = "127.0.0.1:1", .tls = {.ca = "/nonexistent/ca.crt"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls-ca"), HasSubstr("/nonexistent/ca.crt"))));
  EXPECT_THAT(OpenChannel({.target = "127.0.0.1:1", .tls = {.cert = "c.crt"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key")));
  EXPECT_THAT(OpenChannel({.target = "127.0.0.1:1", .token = "with\nnewline"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token")));
}

TEST(OpenChannelTest, NothingListeningGetsNoHint) {
  // Bind a port, then close it: nothing listens there any more.
  std::string target;
  {
    LoopbackServer server;
    ASSERT_TRUE(server.up());
    target = server.target();
  }
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::Channel> channel,
                       OpenChannel({.target = target, .token = "t"}, {}));
  grpc::Status status;
  EXPECT_THAT(Call(channel, &status), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(ConnectionHint(status, true, false), IsEmpty()) << status.error_message();
}

// The messages below are what gRPC 1.51 (Debian 12, OpenSSL 3) reports; see
// tests/system/tls_test.cc for the same failures produced by real processes.
constexpr char kPlaintextToTls[] =
    "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:33571: Socket "
    "closed";
constexpr char kUntrustedCa[] =
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:33571: Ssl handshake "
    "failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed";
constexpr char kBoringSslUntrustedCa[] =
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:33571: Ssl handshake "
    "failed: SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED";
constexpr char kTlsToPlaintext[] =
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:33497: Ssl handshake "
    "failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number";
constexpr char kWrongName[] =
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:37539: Peer name "
    "127.0.0.1 is not in peer certificate";

absl::Status Unavailable(const char* message) { return absl::UnavailableError(message); }

TEST(ConnectionHintTest, Tokens) {
  const absl::Status unauthenticated = absl::UnauthenticatedError("no token");
  EXPECT_EQ(ConnectionHint(unauthenticated, /*has_token=*/false, /*uses_tls=*/true),
            "no token: set EMAR_TOKEN or --token-file");
  EXPECT_EQ(ConnectionHint(unauthenticated, /*has_token=*/true, /*uses_tls=*/true),
            "the coordinator did not accept the token (check --token-file / EMAR_TOKEN)");
  EXPECT_EQ(ConnectionHint(absl::PermissionDeniedError("worker token"), true, false),
            "the token's role may not call this (client tokens for emarctl, worker tokens for "
            "emar-worker)");
  EXPECT_EQ(ConnectionHint(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "x"), true, false),
            ConnectionHint(absl::PermissionDeniedError("x"), true, false));
}

TEST(ConnectionHintTest, UntrustedCertificate) {
  for (const char* m : {kUntrustedCa, kBoringSslUntrustedCa}) {
    EXPECT_EQ(ConnectionHint(Unavailable(m), false, /*uses_tls=*/true),
              "certificate not trusted: pass --tls-ca FILE (the CA that signed the coordinator's "
              "certificate)")
        << m;
  }
}

TEST(ConnectionHintTest, PlaintextClientAgainstTlsCoordinator) {
  EXPECT_EQ(ConnectionHint(Unavailable(kPlaintextToTls), false, /*uses_tls=*/false),
            "is the coordinator serving TLS? pass --tls-ca FILE");
  EXPECT_EQ(
      ConnectionHint(grpc::Status(grpc::StatusCode::UNAVAILABLE, kPlaintextToTls), false, false),
      "is the coordinator serving TLS? pass --tls-ca FILE");
}

TEST(ConnectionHintTest, MutualTlsWithoutOrWithARefusedClientCertificate) {
  // A mutual-TLS coordinator hangs up on a TLS client without a certificate; gRPC says no more.
  EXPECT_EQ(ConnectionHint(Unavailable(kPlaintextToTls), false, /*uses_tls=*/true,
                           /*has_client_cert=*/false),
            "the coordinator requires a client certificate: pass --tls-cert and --tls-key");
  EXPECT_THAT(ConnectionHint(Unavailable(kPlaintextToTls), false, true, /*has_client_cert=*/true),
              HasSubstr("does it trust the CA that signed --tls-cert"));
  EXPECT_EQ(ConnectionHint(Unavailable("... SSL routines::tlsv13 alert certificate required"),
                           false, true, true),
            "the coordinator requires a client certificate: pass --tls-cert and --tls-key");
}

TEST(ConnectionHintTest, TlsClientAgainstPlaintextCoordinatorAndWrongName) {
  EXPECT_THAT(ConnectionHint(Unavailable(kTlsToPlaintext), false, /*uses_tls=*/true),
              HasSubstr("does not seem to serve TLS"));
  EXPECT_THAT(ConnectionHint(Unavailable(kWrongName), false, true),
              HasSubstr("does not name the address in --server"));
}

TEST(ConnectionHintTest, NoHintForOtherFailures) {
  EXPECT_THAT(ConnectionHint(absl::OkStatus(), false, false), IsEmpty());
  EXPECT_THAT(ConnectionHint(absl::NotFoundError("job 'x' not found"), false, false), IsEmpty());
  EXPECT_THAT(ConnectionHint(Unavailable("failed to connect to all addresses; last error: UNKNOWN: "
                                         "ipv4:127.0.0.1:1: Failed to connect to remote host: "
                                         "Connection refused"),
                             false, false),
              IsEmpty());
  // A call that lost an established connection (a coordinator going away) is no TLS problem.
  EXPECT_THAT(ConnectionHint(Unavailable("Socket closed"), false, false), IsEmpty());
  EXPECT_THAT(ConnectionHint(absl::InvalidArgumentError("certificate verify failed"), false, true),
              IsEmpty());
}

}  // namespace
}  // namespace emar
