// Shutdown and durability: SIGTERM drains the coordinator (exit 0), a new coordinator on the same
// data dir serves the finished job's report unchanged; a coordinator killed mid-job and restarted
// on the same address resumes the job; SIGTERM stops a worker cleanly.
#include <signal.h>

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
using ::testing::Not;

const std::string kExampleJob =
    absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment/job.yaml");

std::string JobIdFrom(const std::string& submit_json) {
  const std::string key = "\"job_id\": \"";
  const size_t at = submit_json.find(key);
  if (at == std::string::npos) return "";
  const size_t end = submit_json.find('"', at + key.size());
  return submit_json.substr(at + key.size(), end - at - key.size());
}

TEST(CoordinatorRestartTest, SigtermExitsZeroAndTheReportSurvivesARestart) {
  ClusterOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult first =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--format", "json"}, absl::Seconds(90));
  ASSERT_TRUE(first.exit.Exited(0))
      << first.exit.ToString() << ": " << first.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(first.out));
  const std::string job_id = report.job_id();

  ASSERT_OK(cluster->StopCoordinator());
  EXPECT_THAT(cluster->coordinator().ReadStdout(), HasSubstr("draining"));
  const std::string old_server = cluster->server();
  ASSERT_OK(cluster->RestartCoordinator());

  CommandResult again = cluster->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(again.exit.Exited(0))
      << again.exit.ToString() << ": " << again.err << cluster->Logs();
  EXPECT_EQ(again.out, first.out);  // the same report to the byte, job_id included

  CommandResult status = cluster->Emarctl({"status", job_id, "--format", "json"});
  ASSERT_TRUE(status.exit.Exited(0)) << status.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, ParseJobJson(status.out));
  EXPECT_EQ(job.state(), emar::v1::JOB_STATE_SUCCEEDED);
  ASSERT_OK(cluster->StopCoordinator());
}

TEST(CoordinatorRestartTest, KilledMidJobAndRestartedOnTheSameAddressTheJobResumes) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("resume"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob gen, WriteGeneratedJob(dir.path(), 100000, 50000));
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 2500;
  options.lease_ttl_seconds = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult submitted =
      cluster->Emarctl({"submit", gen.job_file, "--format", "json"}, absl::Seconds(60));
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err;
  const std::string job_id = JobIdFrom(submitted.out);
  ASSERT_FALSE(job_id.empty()) << submitted.out;

  emar::v1::Job seen;
  ASSERT_TRUE(PollUntil(
      [&] {
        CommandResult r = cluster->Emarctl({"status", job_id, "--format", "json"});
        auto j = ParseJobJson(r.out);
        if (!j.ok()) return false;
        seen = *j;
        return seen.progress().shards_done() >= 1 || seen.state() == emar::v1::JOB_STATE_SUCCEEDED;
      },
      absl::Seconds(60), absl::Milliseconds(1)));
  ASSERT_NE(seen.state(), emar::v1::JOB_STATE_SUCCEEDED)
      << "the job ended too soon; make it bigger";

  // A crash, not a drain: nothing gets a chance to flush.
  ASSERT_OK(cluster->coordinator().Signal(SIGKILL));
  ASSERT_OK_AND_ASSIGN(ExitStatus killed, cluster->coordinator().Wait(absl::Seconds(10)));
  EXPECT_EQ(killed.signal, SIGKILL);
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));

  // The worker still runs and reconnects to the same address; the job finishes.
  CommandResult watched =
      cluster->Emarctl({"watch", job_id, "--format", "json"}, absl::Seconds(120));
  CommandResult final_status = cluster->Emarctl({"status", job_id});
  ASSERT_TRUE(watched.exit.Exited(0))
      << watched.exit.ToString() << ": " << watched.err << "\nwatch printed:\n"
      << watched.out << "\nstatus: " << final_status.out << final_status.err << cluster->Logs();
  CommandResult report_out = cluster->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(report_out.exit.Exited(0)) << report_out.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(report_out.out));

  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(gen.job_file));
  EXPECT_EQ(DiffIgnoringJobId(report, undisturbed), "");
}

TEST(WorkerShutdownTest, SigtermStopsAnIdleWorkerWithExitZero) {
  ClusterOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  Process& worker = *cluster->workers()[0];
  ASSERT_TRUE(PollUntil([&] { return absl::StrContains(worker.ReadStdout(), "worker serving"); },
                        absl::Seconds(30)));
  ASSERT_OK(worker.Signal(SIGTERM));
  ASSERT_OK_AND_ASSIGN(ExitStatus exit, worker.Wait(absl::Seconds(30)));
  EXPECT_TRUE(exit.Exited(0)) << exit.ToString() << worker.ReadStderr();
  EXPECT_THAT(worker.ReadStdout(), HasSubstr("worker stopped"));
}

TEST(CommandLineTest, CoordinatorAcceptsTheDocumentedDashedFlags) {
  // server/main.cc documents `--data-dir DIR` and `--port-file F` (and docs/service.md
  // uses them); Abseil only knows the underscore spelling unless main translates it.
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("flags"));
  const std::string port_file = dir.Join("port");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Process> coordinator,
                       Process::Start({BinPath("emar-coordinator"), "--listen", "127.0.0.1:0",
                                       "--data-dir", dir.Join("data"), "--port-file", port_file,
                                       "--rows-per-shard", "1000", "--lease-ttl-seconds", "2"},
                                      dir.path()));
  const bool up = PollUntil([&] { return ReadFile(port_file).ok() || !coordinator->running(); },
                            absl::Seconds(30));
  ASSERT_TRUE(up);
  EXPECT_TRUE(ReadFile(port_file).ok())
      << "emar-coordinator did not start: " << coordinator->ReadStderr();
  if (coordinator->running()) {
    ASSERT_OK(coordinator->Signal(SIGTERM));
    ASSERT_OK_AND_ASSIGN(ExitStatus exit, coordinator->Wait(absl::Seconds(30)));
    EXPECT_TRUE(exit.Exited(0)) << exit.ToString();
  }
}

TEST(CommandLineTest, HelpExitsZeroAndListsEachProgramsOwnFlags) {
  const std::pair<const char*, const char*> cases[] = {{"emar-coordinator", "--tokens"},
                                                       {"emar-worker", "--health-listen"},
                                                       {"emarctl", "--token-file"}};
  for (const auto& [binary, flag] : cases) {
    CommandResult r = RunCommand({BinPath(binary), "--help"}, absl::Seconds(30));
    EXPECT_TRUE(r.exit.Exited(0)) << binary << ": " << r.exit.ToString();
    EXPECT_THAT(r.out, HasSubstr(flag)) << binary;
    EXPECT_THAT(r.out, HasSubstr(std::string(binary) + ":")) << binary;
  }
  // emarctl's --help is its curated usage; --helpfull lists every flag as users type it, under
  // the source file's name in the tree (not the build machine's path).
  CommandResult help = RunCommand({BinPath("emarctl"), "--help"}, absl::Seconds(30));
  EXPECT_THAT(help.out, Not(HasSubstr("Flags from")));
  CommandResult full = RunCommand({BinPath("emarctl"), "--helpfull"}, absl::Seconds(30));
  EXPECT_TRUE(full.exit.Exited(0)) << full.exit.ToString();
  EXPECT_THAT(full.out, HasSubstr("\n  Flags from client/commands/cli.cc:\n"));
  EXPECT_THAT(full.out, HasSubstr("    --token-file ("));
  EXPECT_THAT(full.out, HasSubstr("    --max-benchmark-regression ("));
  EXPECT_THAT(full.out, Not(HasSubstr("--token_file")));
}

}  // namespace
}  // namespace emar::testing
