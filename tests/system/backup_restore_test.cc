// Backup and restore with real processes: `emarctl admin backup` while a job runs, the data dir
// destroyed, `emar-coordinator --restore`, and the same reports afterwards: the finished job's
// byte for byte, the running job's resumed to the report of an undisturbed run, under its id.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

const std::string kExampleJob =
    absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment/job.yaml");

std::string JobIdFrom(const std::string& submit_json) {
  const std::string key = "\"job_id\": \"";
  const size_t at = submit_json.find(key);
  if (at == std::string::npos) return "";
  const size_t end = submit_json.find('"', at + key.size());
  return submit_json.substr(at + key.size(), end - at - key.size());
}

CommandResult Restore(const std::string& backup, const std::string& data_dir) {
  return RunCommand({BinPath("emar-coordinator"), "--restore", backup, "--data-dir", data_dir},
                    absl::Seconds(60));
}

TEST(BackupRestoreTest, BackedUpMidJobDataDirDestroyedRestoredTheReportsAreTheSame) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("backup"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob gen, WriteGeneratedJob(dir.path(), 100000, 50000));
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 2500;
  options.lease_ttl_seconds = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult finished =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--format", "json"}, absl::Seconds(90));
  ASSERT_TRUE(finished.exit.Exited(0)) << finished.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report finished_report, ParseReportJson(finished.out));

  CommandResult submitted =
      cluster->Emarctl({"submit", gen.job_file, "--format", "json"}, absl::Seconds(60));
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err;
  const std::string job_id = JobIdFrom(submitted.out);
  ASSERT_FALSE(job_id.empty()) << submitted.out;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto j = ParseJobJson(cluster->Emarctl({"status", job_id, "--format", "json"}).out);
        return j.ok() && j->progress().shards_done() >= 1;
      },
      absl::Seconds(60), absl::Milliseconds(1)));

  // Online: the worker keeps scoring while the backup streams.
  const std::string backup = dir.Join("backup");
  CommandResult backed_up = cluster->Emarctl({"admin", "backup", backup});
  ASSERT_TRUE(backed_up.exit.Exited(0)) << backed_up.err << cluster->Logs();
  std::cout << "emarctl admin backup: " << backed_up.out;
  EXPECT_THAT(backed_up.out, HasSubstr("backed up 2 job(s)"));
  ASSERT_TRUE(std::filesystem::exists(backup + "/MANIFEST.json"));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job at_backup,
                       ParseJobJson(cluster->Emarctl({"status", job_id, "--format", "json"}).out));
  ASSERT_NE(at_backup.state(), emar::v1::JOB_STATE_SUCCEEDED)
      << "the job ended before the backup; make it bigger";

  // The node is lost: the coordinator dies and its volume with it.
  ASSERT_OK(cluster->coordinator().Signal(SIGKILL));
  ASSERT_OK(cluster->coordinator().Wait(absl::Seconds(10)).status());
  std::filesystem::remove_all(cluster->data_dir());

  CommandResult restored = Restore(backup, cluster->data_dir());
  ASSERT_TRUE(restored.exit.Exited(0)) << restored.err;
  std::cout << "emar-coordinator --restore: " << restored.out;
  EXPECT_THAT(restored.out, HasSubstr("restored 2 job(s)"));
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));
  ASSERT_TRUE(PollUntil(
      [&] { return absl::StrContains(cluster->coordinator().ReadStderr(), "jobs_resumed"); },
      absl::Seconds(30)));
  EXPECT_THAT(cluster->coordinator().ReadStderr(), HasSubstr("jobs=1"));

  CommandResult again = cluster->Emarctl({"report", finished_report.job_id(), "--format", "json"});
  ASSERT_TRUE(again.exit.Exited(0)) << again.err << cluster->Logs();
  EXPECT_EQ(again.out, finished.out);  // byte for byte, job id included

  CommandResult watched =
      cluster->Emarctl({"watch", job_id, "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(watched.exit.Exited(0)) << watched.err << cluster->Logs();
  CommandResult report_out = cluster->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(report_out.exit.Exited(0)) << report_out.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report resumed, ParseReportJson(report_out.out));
  EXPECT_EQ(resumed.job_id(), job_id);
  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(gen.job_file));
  EXPECT_EQ(DiffIgnoringJobId(resumed, undisturbed), "");

  // A restore never overwrites a store, and refuses a backup whose files do not match.
  CommandResult over = Restore(backup, cluster->data_dir());
  EXPECT_TRUE(over.exit.Exited(1));
  EXPECT_THAT(over.err, HasSubstr("jobs.db exists"));
  std::string blob;
  for (const auto& e : std::filesystem::recursive_directory_iterator(backup + "/blobs")) {
    if (e.is_regular_file()) blob = e.path().string();
  }
  ASSERT_FALSE(blob.empty());
  std::ofstream(blob, std::ios::app) << "tampered";
  CommandResult tampered = Restore(backup, dir.Join("fresh"));
  EXPECT_TRUE(tampered.exit.Exited(1));
  EXPECT_THAT(tampered.err, HasSubstr(blob));
  EXPECT_THAT(tampered.err, HasSubstr("MANIFEST.json says"));
  EXPECT_FALSE(std::filesystem::exists(dir.Join("fresh/jobs.db")));
  ASSERT_OK(cluster->StopCoordinator());
}

TEST(BackupRestoreTest, TimestampedBackupsArePrunedToTheNewestKept) {
  ClusterOptions options;
  options.workers = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("backups"));
  // An older complete backup and an interrupted one, as earlier runs would have left them.
  std::filesystem::create_directories(dir.Join("emar-backup-20200101T000000Z"));
  std::ofstream(dir.Join("emar-backup-20200101T000000Z/MANIFEST.json")) << "{}";
  std::filesystem::create_directories(dir.Join("emar-backup-20200102T000000Z"));
  CommandResult r =
      cluster->Emarctl({"admin", "backup", dir.path(), "--timestamped", "--keep", "1"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.err << cluster->Logs();
  EXPECT_THAT(r.out, HasSubstr("backed up 0 job(s)"));
  EXPECT_THAT(r.out, HasSubstr("removed older backup"));
  int left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++left;
    EXPECT_TRUE(std::filesystem::exists(e.path() / "MANIFEST.json")) << e.path();
    EXPECT_THAT(e.path().filename().string(), ::testing::StartsWith("emar-backup-2"));
    EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr("2020")));
  }
  EXPECT_EQ(left, 1);
  CommandResult into_nonempty = cluster->Emarctl({"admin", "backup", dir.path()});
  EXPECT_TRUE(into_nonempty.exit.Exited(1));
  EXPECT_THAT(into_nonempty.err, HasSubstr("is not empty"));
}

}  // namespace
}  // namespace emar::testing
