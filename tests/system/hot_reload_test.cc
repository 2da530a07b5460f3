// Certificates and tokens replaced under a running coordinator (no restart): new connections get
// the new certificate (gRPC's file-watching certificate provider), the old token is refused and
// the new one accepted (--tokens re-read on change, or on SIGHUP), and a watch stream opened
// before the rotation keeps running to the job's end.
#include <signal.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

// Writes beside `path` and renames over it: a reader sees the old file or the new one.
absl::Status Replace(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".new";
  if (absl::Status s = WriteFile(tmp, contents); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return absl::InternalError("rename " + path);
  return absl::OkStatus();
}

absl::Status CopyFile(const std::string& from, const std::string& to) {
  absl::StatusOr<std::string> bytes = ReadFile(from);
  if (!bytes.ok()) return bytes.status();
  return Replace(to, *bytes);
}

absl::Status MakePki(const std::string& dir) {
  CommandResult made =
      RunCommand({"/bin/bash", absl::StrCat(EMAR_SOURCE_DIR, "/tests/pki/make-test-pki.sh"), dir},
                 absl::Seconds(120));
  if (made.exit.Exited(0)) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("make-test-pki.sh: ", made.out, made.err));
}

std::string Tokens(const std::string& client_token) {
  return absl::StrCat("client team ", Sha256Hex(client_token), "\nworker pool ",
                      Sha256Hex("worker-token"), "\n");
}

std::string JobIdFrom(const std::string& submit_json) {
  const std::string key = "\"job_id\": \"";
  const size_t at = submit_json.find(key);
  if (at == std::string::npos) return "";
  const size_t end = submit_json.find('"', at + key.size());
  return submit_json.substr(at + key.size(), end - at - key.size());
}

TEST(HotReloadTest, NewCertificateAndTokenTakeEffectWhileAWatchStreamSurvives) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("reload"));
  ASSERT_OK(MakePki(dir.Join("old")));
  ASSERT_OK(MakePki(dir.Join("new")));  // another CA: the old one does not trust its certificate
  const std::string cert = dir.Join("tls.crt"), key = dir.Join("tls.key");
  const std::string tokens = dir.Join("tokens");
  ASSERT_OK(CopyFile(dir.Join("old/server.crt"), cert));
  ASSERT_OK(CopyFile(dir.Join("old/server.key"), key));
  ASSERT_OK(WriteFile(tokens, Tokens("old-token")));
  ASSERT_OK(WriteFile(dir.Join("old.token"), "old-token"));
  ASSERT_OK(WriteFile(dir.Join("new.token"), "new-token"));
  ASSERT_OK(WriteFile(dir.Join("worker.token"), "worker-token"));
  ASSERT_OK_AND_ASSIGN(
      auto cluster,
      LocalCluster::Start(
          {.workers = 0,
           .coordinator_flags = {"--tls_cert", cert, "--tls_key", key, "--tokens", tokens,
                                 "--tls_reload_seconds", "1", "--tokens_reload_seconds", "1"},
           .worker_flags = {"--tls-ca", dir.Join("new/ca.crt"), "--token-file",
                            dir.Join("worker.token")}}));
  const std::vector<std::string> old_creds = {"--tls-ca", dir.Join("old/ca.crt"), "--token-file",
                                              dir.Join("old.token")};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& flags) {
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  };
  ASSERT_OK_AND_ASSIGN(GeneratedJob job, WriteGeneratedJob(dir.path(), 3000, 2000));
  CommandResult submitted =
      cluster->Emarctl(with({"submit", job.job_file, "--format", "json"}, old_creds));
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster->Logs();
  const std::string job_id = JobIdFrom(submitted.out);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> watch,
      Process::Start(with({BinPath("emarctl"), "watch", job_id, "--server", cluster->server(),
                           "--format", "json", "--progress", "off"},
                          old_creds),
                     dir.path()));
  ASSERT_TRUE(
      PollUntil([&] { return absl::StrContains(watch->ReadStdout(), job_id); }, absl::Seconds(30)));

  // cert-manager renews the certificate (under a new CA here) and the tokens are rotated.
  ASSERT_OK(CopyFile(dir.Join("new/server.key"), key));
  ASSERT_OK(CopyFile(dir.Join("new/server.crt"), cert));
  ASSERT_OK(Replace(tokens, Tokens("new-token")));
  const std::vector<std::string> new_creds = {"--tls-ca", dir.Join("new/ca.crt"), "--token-file",
                                              dir.Join("new.token")};
  ASSERT_TRUE(PollUntil(
      [&] {
        return cluster->Emarctl(with({"status", job_id}, new_creds)).exit.Exited(0);
      },
      absl::Seconds(30), absl::Milliseconds(200)))
      << cluster->Logs();
  CommandResult old_ca = cluster->Emarctl(with({"status", job_id}, old_creds));
  EXPECT_TRUE(old_ca.exit.Exited(1)) << old_ca.err;
  CommandResult old_token =
      cluster->Emarctl(with({"status", job_id}, {"--tls-ca", dir.Join("new/ca.crt"), "--token-file",
                                                 dir.Join("old.token")}));
  EXPECT_TRUE(old_token.exit.Exited(1));
  EXPECT_THAT(old_token.err, HasSubstr("not one this coordinator accepts"));
  EXPECT_THAT(cluster->coordinator().ReadStderr(), HasSubstr("tokens_reloaded"));

  // The watch opened under the old certificate and token is still there, and sees the end.
  ASSERT_TRUE(watch->running()) << watch->ReadStderr();
  ASSERT_OK(cluster->AddWorker());
  ASSERT_OK_AND_ASSIGN(ExitStatus watched, watch->Wait(absl::Seconds(120)));
  EXPECT_TRUE(watched.Exited(0)) << watched.ToString() << watch->ReadStderr() << cluster->Logs();
  EXPECT_THAT(watch->ReadStdout(), HasSubstr("SUCCEEDED"));
}

TEST(HotReloadTest, SighupReloadsTheTokensAndABrokenFileKeepsTheOldOnes) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("sighup"));
  const std::string tokens = dir.Join("tokens");
  ASSERT_OK(WriteFile(tokens, Tokens("old-token")));
  ASSERT_OK(WriteFile(dir.Join("old.token"), "old-token"));
  ASSERT_OK(WriteFile(dir.Join("new.token"), "new-token"));
  ASSERT_OK_AND_ASSIGN(
      auto cluster, LocalCluster::Start({.workers = 0,
                                         .coordinator_flags = {"--tokens", tokens,
                                                               "--tokens_reload_seconds", "0"}}));
  auto list_as = [&](const std::string& token_file) {
    return cluster->Emarctl({"list", "--token-file", dir.Join(token_file)}).exit.Exited(0);
  };
  ASSERT_TRUE(list_as("old.token"));
  ASSERT_OK(Replace(tokens, "client team not-a-digest\n"));
  ASSERT_OK(cluster->coordinator().Signal(SIGHUP));
  ASSERT_TRUE(PollUntil(
      [&] { return absl::StrContains(cluster->coordinator().ReadStderr(), "tokens kept"); },
      absl::Seconds(10)));
  EXPECT_THAT(cluster->coordinator().ReadStderr(), HasSubstr(tokens + ":1:"));
  EXPECT_TRUE(list_as("old.token"));  // a typo locks nobody out

  ASSERT_OK(Replace(tokens, Tokens("new-token")));
  ASSERT_OK(cluster->coordinator().Signal(SIGHUP));
  ASSERT_TRUE(PollUntil(
      [&] {
        return absl::StrContains(cluster->coordinator().ReadStderr(), "SIGHUP: tokens reloaded");
      },
      absl::Seconds(10)));
  EXPECT_TRUE(list_as("new.token"));
  EXPECT_FALSE(list_as("old.token"));
  ASSERT_OK(cluster->StopCoordinator());
}

}  // namespace
}  // namespace emar::testing
