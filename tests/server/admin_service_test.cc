// AdminService.Backup on a real coordinator over loopback gRPC with tokens: only admins may
// take a backup, and what emarctl's DownloadBackup writes restores (RestoreBackup) into a new
// data dir holding the same job, request and blobs.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "client/backup_download.h"
#include "client/evaluation_client.h"
#include "common/client_channel.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "server/job_store_backup.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kClient[] = "client-token";
constexpr char kWorker[] = "worker-token";
constexpr char kAdmin[] = "admin-token";

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(coordinator_, Coordinator::Create(o));
    ServerOptions s;
    s.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(s.tokens, TokenTable::Parse(absl::StrCat("client c ", Sha256Hex(kClient),
                                                                  "\nworker w ", Sha256Hex(kWorker),
                                                                  "\nadmin a ", Sha256Hex(kAdmin)),
                                                     "tokens"));
    ASSERT_OK_AND_ASSIGN(server_, CoordinatorServer::Start(coordinator_.get(), s));
  }
  void TearDown() override {
    server_->Shutdown(absl::Seconds(2));
    server_.reset();
    coordinator_.reset();
  }
  std::shared_ptr<grpc::Channel> Channel(const std::string& token) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return *OpenChannel(
        {.target = absl::StrCat("127.0.0.1:", server_->port()), .tls = {}, .token = token}, args);
  }
  absl::StatusOr<emar::v1::BackupManifest> BackupAs(const std::string& token,
                                                    const std::string& dir) {
    auto stub = emar::v1::AdminService::NewStub(Channel(token));
    return DownloadBackup(*stub, dir);
  }

  TempDir data_, inputs_, backups_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(AdminServiceTest, OnlyAdminsMayBackUpAndARefusedBackupLeavesNoManifest) {
  EXPECT_THAT(BackupAs(kClient, backups_.path() + "/c"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("admin token")));
  EXPECT_THAT(BackupAs(kWorker, backups_.path() + "/w"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(BackupAs("", backups_.path() + "/none"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(std::filesystem::exists(backups_.path() + "/c/MANIFEST.json"));
}

TEST_F(AdminServiceTest, ABackupRestoresIntoANewDataDirWithTheSameJobAndBlobs) {
  SmallJob job(inputs_.path());
  EvaluationClient client(Channel(kClient));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job created, client.Submit(job.Load(), "req-1"));

  const std::string backup = backups_.path() + "/b";
  ASSERT_OK_AND_ASSIGN(emar::v1::BackupManifest manifest, BackupAs(kAdmin, backup));
  EXPECT_EQ(manifest.format(), "emar-backup/1");
  EXPECT_EQ(manifest.jobs(), 1);
  // jobs.db and the six uploaded inputs, each verified on arrival.
  ASSERT_EQ(manifest.files_size(), 7) << manifest.DebugString();
  EXPECT_EQ(manifest.files(0).path(), "jobs.db");
  for (const auto& f : manifest.files()) {
    ASSERT_OK_AND_ASSIGN(std::string digest, Sha256OfFile(backup + "/" + f.path()));
    EXPECT_EQ(digest, f.sha256()) << f.path();
  }
  EXPECT_FALSE(std::filesystem::exists(data_.path() + "/backup.tmp"));  // staging removed

  // Another backup into the same (now full) directory is refused before anything is asked.
  EXPECT_THAT(BackupAs(kAdmin, backup), StatusIs(absl::StatusCode::kFailedPrecondition));

  TempDir restored;
  ASSERT_OK_AND_ASSIGN(RestoreSummary summary, RestoreBackup(backup, restored.path()));
  EXPECT_EQ(summary.jobs, 1);
  EXPECT_EQ(summary.blobs, 6);
  CoordinatorOptions o;
  o.data_dir = restored.path();
  ASSERT_OK_AND_ASSIGN(auto again, Coordinator::Create(o));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job_again, again->GetJob(created.job_id()));
  EXPECT_EQ(job_again.name(), created.name());
  EXPECT_EQ(job_again.state(), created.state());
  for (int i = 1; i < manifest.files_size(); ++i) {
    EXPECT_TRUE(again->blobs().Has(manifest.files(i).sha256()));
  }
  EXPECT_THAT(RestoreBackup(backup, restored.path()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("jobs.db exists")));
  EXPECT_THAT(RestoreBackup(backups_.path(), restored.path() + "/x"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("MANIFEST.json")));
}

}  // namespace
}  // namespace emar
