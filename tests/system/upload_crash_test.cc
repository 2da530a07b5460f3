// A partial upload cut by kill -9: the coordinator dies with half a blob in its
// data dir's tmp/; the coordinator restarted on that data dir removes it before serving, and the
// same job resubmitted uploads the blob whole and gets the undisturbed report.
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

const std::string kExampleDir = absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment");
const std::string kExampleJob = kExampleDir + "/job.yaml";

// Entries of `dir` other than . and ..; -1 when it cannot be read.
int EntriesIn(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    n += name != "." && name != "..";
  }
  ::closedir(d);
  return n;
}

TEST(UploadCrashTest, APartialUploadCutByKillIsRemovedAtRestartAndTheJobResubmits) {
  ClusterOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  const std::string tmp_dir = cluster->data_dir() + "/tmp";
  ASSERT_EQ(EntriesIn(tmp_dir), 0);

  // Half of one of the job's inputs, then the coordinator is killed mid-upload.
  const std::string input = kExampleDir + "/data/target.jsonl";
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFile(input));
  {
    auto stub = emar::v1::EvaluationService::NewStub(
        grpc::CreateChannel(cluster->server(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    emar::v1::UploadBlobResponse resp;
    auto writer = stub->UploadBlob(&ctx, &resp);
    emar::v1::UploadBlobRequest header;
    header.set_sha256(Sha256Hex(bytes));
    header.set_size_bytes(static_cast<int64_t>(bytes.size()));
    header.set_chunk(bytes.substr(0, bytes.size() / 2));
    ASSERT_TRUE(writer->Write(header));
    ASSERT_TRUE(PollUntil([&] { return EntriesIn(tmp_dir) == 1; }, absl::Seconds(30)))
        << EntriesIn(tmp_dir) << cluster->Logs();

    ASSERT_OK(cluster->coordinator().Signal(SIGKILL));
    ASSERT_OK_AND_ASSIGN(ExitStatus killed, cluster->coordinator().Wait(absl::Seconds(10)));
    EXPECT_EQ(killed.signal, SIGKILL);
    const grpc::Status cut = writer->Finish();
    EXPECT_FALSE(cut.ok());
  }
  EXPECT_EQ(EntriesIn(tmp_dir), 1) << "the crash left no partial file: the test proves nothing";

  // Same address: the worker reconnects. The partial file is gone before the port is announced.
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));
  EXPECT_EQ(EntriesIn(tmp_dir), 0);
  EXPECT_THAT(cluster->coordinator().ReadStderr(), HasSubstr("removed 1 partial upload"));

  CommandResult resubmitted =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(resubmitted.exit.Exited(0))
      << resubmitted.exit.ToString() << ": " << resubmitted.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(resubmitted.out));
  EXPECT_EQ(EntriesIn(tmp_dir), 0);

  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(kExampleJob));
  EXPECT_EQ(DiffIgnoringJobId(report, undisturbed), "");
  bool saw_input = false;
  for (const auto& in : report.provenance().inputs()) saw_input |= in.sha256() == Sha256Hex(bytes);
  EXPECT_TRUE(saw_input) << "the report does not name the re-uploaded input";
  ASSERT_OK(cluster->StopCoordinator());
}

}  // namespace
}  // namespace emar::testing
