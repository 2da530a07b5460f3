// Bearer-token authentication (server/auth.h): the tokens file read from disk, and who may call
// which API with which header.
#include "server/auth.h"

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kClient[] = "client-token";
constexpr char kWorker[] = "worker-token";
constexpr char kAdmin[] = "admin-token";

Authenticator WithTokens() {
  auto table = TokenTable::Parse(
      absl::StrCat("client alice ", Sha256Hex(kClient), "\nworker pool ", Sha256Hex(kWorker),
                   "\n# an operator\nadmin root ", absl::AsciiStrToUpper(Sha256Hex(kAdmin)), "\n"),
      "tokens");
  EXPECT_OK(table.status());
  return Authenticator(std::move(*table));
}

std::string Bearer(const char* token) { return absl::StrCat("Bearer ", token); }

TEST(AuthenticatorTest, WithoutTokensEveryCallerIsTheAnonymousAdmin) {
  Authenticator open;
  EXPECT_FALSE(open.enabled());
  for (Api api : {Api::kClient, Api::kWorker}) {
    ASSERT_OK_AND_ASSIGN(Principal p, open.Authorize(std::nullopt, api));
    EXPECT_TRUE(p.admin());
    EXPECT_EQ(p.name, "");
    ASSERT_OK_AND_ASSIGN(p, open.Authorize("Bearer anything", api));
    EXPECT_TRUE(p.admin());
  }
}

TEST(AuthenticatorTest, EachRoleCallsItsOwnApiAndAdminsBoth) {
  const Authenticator auth = WithTokens();
  EXPECT_TRUE(auth.enabled());
  ASSERT_OK_AND_ASSIGN(Principal alice, auth.Authorize(Bearer(kClient), Api::kClient));
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.role, Role::kClient);
  ASSERT_OK_AND_ASSIGN(Principal pool, auth.Authorize(Bearer(kWorker), Api::kWorker));
  EXPECT_EQ(pool.name, "pool");
  // An upper-case digest in the file is the same digest.
  for (Api api : {Api::kClient, Api::kWorker}) {
    ASSERT_OK_AND_ASSIGN(Principal root, auth.Authorize(Bearer(kAdmin), api));
    EXPECT_EQ(root.name, "root");
    EXPECT_TRUE(root.admin());
  }
  EXPECT_THAT(auth.Authorize(Bearer(kClient), Api::kWorker),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("principal 'alice' has a client token, which may not call the "
                                 "worker API (WorkerService)")));
  EXPECT_THAT(auth.Authorize(Bearer(kWorker), Api::kClient),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("may not call the client API (EvaluationService)")));
}

TEST(AuthenticatorTest, TheHeaderIsBearerAndATokenTheTableKnows) {
  const Authenticator auth = WithTokens();
  EXPECT_THAT(auth.Authorize(std::nullopt, Api::kClient),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("EMAR_TOKEN")));
  EXPECT_THAT(auth.Authorize(kClient, Api::kClient),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("must be 'Bearer TOKEN'")));
  EXPECT_THAT(auth.Authorize("Basic abc", Api::kClient),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("must be 'Bearer TOKEN'")));
  EXPECT_THAT(auth.Authorize("Bearer guess", Api::kClient),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not one this coordinator")));
  // The token's digest is not the token.
  EXPECT_THAT(auth.Authorize(Bearer(Sha256Hex(kClient).c_str()), Api::kClient),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // The scheme's case and surrounding spaces do not matter.
  EXPECT_OK(auth.Authorize(absl::StrCat("  bearer  ", kClient, " "), Api::kClient).status());
}

TEST(TokenTableTest, LoadReadsAFileAndNamesItInErrors) {
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  std::ofstream(path) << "client alice " << Sha256Hex(kClient) << "\n";
  ASSERT_OK_AND_ASSIGN(TokenTable table, TokenTable::Load(path));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.Find(kClient)->name, "alice");

  std::ofstream(path) << "client alice " << Sha256Hex(kClient) << "\nwoker pool "
                      << Sha256Hex(kWorker) << "\n";
  EXPECT_THAT(TokenTable::Load(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr(path + ":2: unknown role 'woker'")));
  EXPECT_THAT(TokenTable::Load(dir.path() + "/absent"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tokens " + dir.path() + "/absent: cannot read")));
}

}  // namespace
}  // namespace emar
