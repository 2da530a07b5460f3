// TLS credentials from PEM files made by tests/pki/make-test-pki.sh (the openssl binary): the
// plaintext default, good server and client files, and every error naming its flag and file.
#include "common/tls_credentials.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

class TlsCredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    const std::string cmd = absl::StrCat("bash ", EMAR_SOURCE_DIR, "/tests/pki/make-test-pki.sh ",
                                         pki_->path(), " >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static std::string File(const std::string& name) { return pki_->path() + "/" + name; }
  static TempDir* pki_;
};
TempDir* TlsCredentialsTest::pki_ = nullptr;

TEST_F(TlsCredentialsTest, NoFilesMeansPlaintext) {
  EXPECT_FALSE(ServerTlsFiles{}.enabled());
  EXPECT_FALSE(ClientTlsFiles{}.enabled());
  ASSERT_OK_AND_ASSIGN(auto server, ServerCredentialsFromFiles({}));
  EXPECT_NE(server, nullptr);
  ASSERT_OK_AND_ASSIGN(auto client, ChannelCredentialsFromFiles({}));
  EXPECT_NE(client, nullptr);
}

TEST_F(TlsCredentialsTest, MatchingFilesMakeServerAndClientCredentials) {
  ASSERT_OK_AND_ASSIGN(auto server, ServerCredentialsFromFiles({.cert = File("server.crt"),
                                                                .key = File("server.key"),
                                                                .client_ca = File("ca.crt")}));
  EXPECT_NE(server, nullptr);
  ASSERT_OK_AND_ASSIGN(auto client, ChannelCredentialsFromFiles({.ca = File("ca.crt"),
                                                                 .cert = File("client.crt"),
                                                                 .key = File("client.key")}));
  EXPECT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(auto ca_only, ChannelCredentialsFromFiles({.ca = File("ca.crt")}));
  EXPECT_NE(ca_only, nullptr);
}

TEST_F(TlsCredentialsTest, EveryErrorNamesTheFlagAndTheFile) {
  EXPECT_THAT(
      ServerCredentialsFromFiles({.cert = File("missing.crt"), .key = File("server.key")}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("--tls-cert " + File("missing.crt") + ": cannot read")));
  // A key where a certificate belongs.
  EXPECT_THAT(
      ServerCredentialsFromFiles({.cert = File("server.key"), .key = File("server.key")}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("--tls-cert " + File("server.key") + ": not a PEM file")));
  // A key that is not the certificate's.
  EXPECT_THAT(
      ServerCredentialsFromFiles({.cert = File("server.crt"), .key = File("client.key")}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key " + File("client.key"))));
  EXPECT_THAT(ServerCredentialsFromFiles({.client_ca = File("ca.crt")}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-cert and --tls-key")));
  EXPECT_THAT(ChannelCredentialsFromFiles({.cert = File("client.crt")}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-cert and --tls-key")));
  EXPECT_THAT(ChannelCredentialsFromFiles({.ca = File("client.key")}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-ca " + File("client.key") + ": not a PEM file")));
}

}  // namespace
}  // namespace emar
