// TLS between real processes: a coordinator serving TLS (and mutual TLS), emarctl and workers
// connecting with --tls-ca / --tls-cert / --tls-key, and what a user sees when one side is set
// up wrong. The certificates are made at test time by tests/pki/make-test-pki.sh (openssl): a CA,
// a server certificate for 127.0.0.1 and localhost and a client certificate signed by it, and a
// second CA that signed nothing the coordinator uses.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// PEM files in a directory that lives as long as this object.
struct TestPki {
  TempDir dir;
  std::string ca_cert, other_ca_cert;      // the coordinator's CA and an unrelated one
  std::string server_cert, server_key;     // signed by ca_cert; SAN IP:127.0.0.1, DNS:localhost
  std::string client_cert, client_key;     // signed by ca_cert
  std::string client_token, worker_token;  // files holding bearer tokens
  std::string other_client_token;          // a second client principal's
  std::string tokens;                      // the coordinator's --tokens file for both

  static absl::StatusOr<TestPki> Create() {
    auto dir = TempDir::Create("emar-tls");
    if (!dir.ok()) return dir.status();
    TestPki pki{.dir = std::move(*dir)};
    const TempDir& d = pki.dir;
    // The certificates: tests/pki/make-test-pki.sh (shared with the Python client's tests).
    const std::vector<std::string> make = {
        "/bin/bash", absl::StrCat(EMAR_SOURCE_DIR, "/tests/pki/make-test-pki.sh"), d.path()};
    CommandResult made = RunCommand(make, absl::Seconds(120));
    if (!made.exit.Exited(0)) {
      return absl::InternalError(absl::StrCat(absl::StrJoin(make, " "), ": ", made.exit.ToString(),
                                              ": ", made.out, made.err,
                                              " (scripts/install-deps.sh installs openssl)"));
    }
    pki.ca_cert = d.Join("ca.crt");
    pki.other_ca_cert = d.Join("other-ca.crt");
    pki.server_cert = d.Join("server.crt");
    pki.server_key = d.Join("server.key");
    pki.client_cert = d.Join("client.crt");
    pki.client_key = d.Join("client.key");
    pki.client_token = d.Join("client.token");
    pki.worker_token = d.Join("worker.token");
    pki.tokens = d.Join("tokens");
    pki.other_client_token = d.Join("other.token");
    for (absl::Status s :
         {WriteFile(pki.client_token, "client-secret-token\n"),
          WriteFile(pki.worker_token, "  worker-secret-token\n"),
          WriteFile(pki.other_client_token, "other-secret-token"),
          WriteFile(pki.tokens,
                    absl::StrCat("client tls-test-client ", Sha256Hex("client-secret-token"),
                                 "\nworker tls-test-worker ", Sha256Hex("worker-secret-token"),
                                 "\nclient other-team ", Sha256Hex("other-secret-token"), "\n"))}) {
      if (!s.ok()) return s;
    }
    return pki;
  }
};

// Each test gets its own certificates (EC keys: a few milliseconds each).
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_OK(pki.status());
    pki_.emplace(std::move(*pki));
  }

  std::vector<std::string> ServeTls() const {
    return {"--tls_cert", pki_->server_cert, "--tls_key", pki_->server_key};
  }
  std::vector<std::string> ServeMutualTls() const {
    std::vector<std::string> flags = ServeTls();
    flags.insert(flags.end(), {"--tls_client_ca", pki_->ca_cert});
    return flags;
  }
  std::vector<std::string> TrustCa() const { return {"--tls-ca", pki_->ca_cert}; }
  std::vector<std::string> WithClientCert() const {
    return {"--tls-ca",        pki_->ca_cert, "--tls-cert",
            pki_->client_cert, "--tls-key",   pki_->client_key};
  }

  // `args` then `flags`.
  static std::vector<std::string> Args(std::vector<std::string> args,
                                       const std::vector<std::string>& flags) {
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }

  // Submits a small generated job with `client_flags`, waits, and checks the report's scores.
  void RunJob(LocalCluster& cluster, const std::vector<std::string>& client_flags) {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-tls-job"));
    ASSERT_OK_AND_ASSIGN(GeneratedJob job, WriteGeneratedJob(dir.path(), 3000, 2000));
    CommandResult r =
        cluster.Emarctl(Args({"submit", job.job_file, "--wait", "--format", "json"}, client_flags),
                        absl::Seconds(120));
    ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err << cluster.Logs();
    ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(r.out));
    ASSERT_EQ(report.candidates_size(), 1);
    EXPECT_NEAR(report.candidates(0).target().base().value(), job.t0, 1e-12);
    EXPECT_NEAR(report.candidates(0).target().candidate().value(), job.t1, 1e-12);
    EXPECT_NEAR(report.candidates(0).benchmark().base().value(), job.b0, 1e-12);
    EXPECT_NEAR(report.candidates(0).benchmark().candidate().value(), job.b1, 1e-12);
  }

  std::optional<TestPki> pki_;
};

// (a) emarctl and a worker trusting the coordinator's CA: list works and a job finishes.
TEST_F(TlsTest, ClientAndWorkerTrustingTheCaListAndFinishAJob) {
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start({.workers = 1,
                                                          .coordinator_flags = ServeTls(),
                                                          .worker_flags = TrustCa()}));
  CommandResult listed = cluster->Emarctl(Args({"list"}, TrustCa()));
  EXPECT_TRUE(listed.exit.Exited(0)) << listed.exit.ToString() << ": " << listed.err;
  RunJob(*cluster, TrustCa());
}

// (b) A plaintext emarctl against the TLS port: the TLS server hangs up during the handshake.
TEST_F(TlsTest, PlaintextClientIsToldToPassTheCa) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       LocalCluster::Start({.workers = 0, .coordinator_flags = ServeTls()}));
  CommandResult r = cluster->Emarctl({"list"});
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  // gRPC 1.51: "failed to connect to all addresses; last error: UNAVAILABLE:
  // ipv4:127.0.0.1:PORT: Socket closed".
  EXPECT_THAT(r.err, HasSubstr("emarctl: failed to connect"));
  EXPECT_THAT(r.err,
              HasSubstr("\nemarctl: hint: is the coordinator serving TLS? pass --tls-ca FILE\n"));
}

// (c) emarctl trusting another CA: the coordinator's certificate does not verify.
TEST_F(TlsTest, ClientTrustingTheWrongCaIsToldTheCertificateIsNotTrusted) {
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       LocalCluster::Start({.workers = 0, .coordinator_flags = ServeTls()}));
  CommandResult r = cluster->Emarctl({"list", "--tls-ca", pki_->other_ca_cert});
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  // OpenSSL 3: "... Ssl handshake failed: SSL_ERROR_SSL: error:0A000086:SSL
  // routines::certificate verify failed".
  EXPECT_THAT(r.err, HasSubstr("certificate verify failed"));
  EXPECT_THAT(r.err, HasSubstr("emarctl: hint: certificate not trusted: pass --tls-ca"));
  // gRPC's own log lines ("E1207 12:00:00.000 ... Handshake failed") stay out of it: every line
  // is emarctl's.
  for (absl::string_view line : absl::StrSplit(r.err, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::StartsWith(line, "emarctl: ")) << line;
  }
  // The same through submit --wait, the path most users take.
  r = cluster->Emarctl({"submit",
                        absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment/job.yaml"),
                        "--wait", "--tls-ca", pki_->other_ca_cert});
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  EXPECT_THAT(r.err, HasSubstr("emarctl: hint: certificate not trusted: pass --tls-ca"));
}

// (d) Mutual TLS: a client without a certificate is refused; with one it works, and a worker
// with one completes a job.
TEST_F(TlsTest, MutualTlsRefusesClientsWithoutACertificate) {
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start({.workers = 1,
                                                          .coordinator_flags = ServeMutualTls(),
                                                          .worker_flags = WithClientCert()}));
  CommandResult refused = cluster->Emarctl(Args({"list"}, TrustCa()));
  EXPECT_TRUE(refused.exit.Exited(1)) << refused.exit.ToString();
  // TLS 1.3: the server rejects the missing certificate after the client's side of the handshake
  // is done, so the client only sees "... UNAVAILABLE: ipv4:127.0.0.1:PORT: Socket closed".
  EXPECT_THAT(refused.err, HasSubstr("emarctl: failed to connect"));
  EXPECT_THAT(refused.err, HasSubstr("emarctl: hint: the coordinator requires a client "
                                     "certificate: pass --tls-cert and --tls-key"));
  // The coordinator says why in its own log.
  EXPECT_THAT(cluster->coordinator().ReadStderr(), HasSubstr("peer did not return a certificate"));

  CommandResult listed = cluster->Emarctl(Args({"list"}, WithClientCert()));
  EXPECT_TRUE(listed.exit.Exited(0)) << listed.exit.ToString() << ": " << listed.err;
  EXPECT_THAT(listed.err, Not(HasSubstr("hint")));
  RunJob(*cluster, WithClientCert());
}

// (e) A key that is not the certificate's: the coordinator refuses to start and names the flag.
TEST_F(TlsTest, CoordinatorRefusesAKeyNotMatchingTheCertificate) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-tls-badkey"));
  ASSERT_OK_AND_ASSIGN(auto coordinator,
                       Process::Start({BinPath("emar-coordinator"), "--listen", "127.0.0.1:0",
                                       "--data_dir", dir.Join("data"), "--tls_cert",
                                       pki_->server_cert, "--tls_key", pki_->client_key},
                                      dir.path()));
  ASSERT_OK_AND_ASSIGN(ExitStatus exit, coordinator->Wait(absl::Seconds(30)));
  EXPECT_TRUE(exit.Exited(1)) << exit.ToString();
  const std::string err = coordinator->ReadStderr();
  EXPECT_THAT(err, HasSubstr("--tls-key " + pki_->client_key));
  EXPECT_THAT(err, HasSubstr("is not the private key of the certificate in --tls-cert"));
  EXPECT_THAT(coordinator->ReadStdout(), Not(HasSubstr("listening on")));
}

// Bearer tokens over TLS: emarctl and the worker send theirs from --token-file; a client without
// one, or with the worker's, is refused with a hint.
TEST_F(TlsTest, TokensFromTokenFileOverTls) {
  unsetenv("EMAR_TOKEN");  // the children inherit the environment: no token but the flags'
  std::vector<std::string> coordinator_flags = ServeTls();
  coordinator_flags.insert(coordinator_flags.end(), {"--tokens", pki_->tokens});
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      LocalCluster::Start({.workers = 1,
                           .coordinator_flags = coordinator_flags,
                           .worker_flags = Args(TrustCa(), {"--token-file", pki_->worker_token})}));
  CommandResult r = cluster->Emarctl(Args({"list"}, TrustCa()));
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  EXPECT_THAT(r.err, HasSubstr("emarctl: hint: no token: set EMAR_TOKEN or --token-file"));
  r = cluster->Emarctl(Args({"list", "--token-file", pki_->worker_token}, TrustCa()));
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  EXPECT_THAT(r.err, HasSubstr("emarctl: hint: the token's role may not call this"));
  r = cluster->Emarctl(Args({"list", "--token-file", pki_->tokens}, TrustCa()));
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString();
  EXPECT_THAT(r.err, HasSubstr("--token-file " + pki_->tokens));
  const std::vector<std::string> owner = Args(TrustCa(), {"--token-file", pki_->client_token});
  const std::vector<std::string> other =
      Args(TrustCa(), {"--token-file", pki_->other_client_token});
  RunJob(*cluster, owner);

  // Another principal neither lists, reads nor deletes the job; its owner deletes it.
  r = cluster->Emarctl(Args({"list"}, owner));
  ASSERT_TRUE(r.exit.Exited(0)) << r.err;
  const size_t at = r.out.find("job-");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string id = r.out.substr(at, 20);
  r = cluster->Emarctl(Args({"list"}, other));
  ASSERT_TRUE(r.exit.Exited(0)) << r.err;
  EXPECT_EQ(r.out.find("job-"), std::string::npos) << r.out;
  for (const char* cmd : {"status", "report", "cancel", "delete"}) {
    r = cluster->Emarctl(Args({cmd, id}, other));
    EXPECT_TRUE(r.exit.Exited(1)) << cmd << ": " << r.exit.ToString();
    EXPECT_THAT(r.err, HasSubstr("job '" + id + "' not found")) << cmd;
  }
  r = cluster->Emarctl(Args({"delete", id}, owner));
  ASSERT_TRUE(r.exit.Exited(0)) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted " + id + ": 6 input blob(s)"));
  r = cluster->Emarctl(Args({"status", id}, owner));
  EXPECT_TRUE(r.exit.Exited(1));
  EXPECT_THAT(r.err, HasSubstr("not found"));
}

}  // namespace
}  // namespace emar::testing
