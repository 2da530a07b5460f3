// A "cluster on one machine": coordinator and worker processes on loopback, driven the
// way Kubernetes drives pods, all during one job: workers scaled 1 -> 4 -> 1 (scale-down by
// SIGTERM, which a worker honours by finishing its shards in hand), one SIGKILLed, and the
// coordinator restarted on the same address (a rolling update). A watcher started before all
// of it must re-attach rather than fail, and the report must equal an undisturbed embedded run.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

TEST(ClusterChurnTest, ScaleKillAndRollingRestartDuringOneJobLeaveTheReportUnchanged) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-churn"));
  // 1,000 shards of 200 rows: long enough for the churn to land mid-job on a quick machine.
  ASSERT_OK_AND_ASSIGN(GeneratedJob job, WriteGeneratedJob(dir.path(), 60000, 40000));
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 200;
  options.lease_ttl_seconds = 3;
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start(options));

  CommandResult submitted = cluster->Emarctl({"submit", job.job_file});
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster->Logs();
  const size_t at = submitted.out.find("job-");
  ASSERT_NE(at, std::string::npos) << submitted.out;
  const std::string id = submitted.out.substr(at, 20);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> watcher,
      Process::Start({BinPath("emarctl"), "watch", id, "--server", cluster->server()}, dir.path()));

  // Scale up to four workers, then back down to one by SIGTERM: each exits 0 after finishing
  // what it holds.
  for (int i = 0; i < 3; ++i) ASSERT_OK(cluster->AddWorker());
  absl::SleepFor(absl::Milliseconds(300));
  std::vector<std::unique_ptr<Process>>& workers = cluster->workers();
  ASSERT_EQ(workers.size(), 4u);
  // A worker handles SIGTERM once it is serving (it blocks the signal at start); on a loaded
  // machine starting may take longer than the 300 ms above.
  for (size_t i = 1; i < 4; ++i) {
    ASSERT_TRUE(
        PollUntil([&] { return absl::StrContains(workers[i]->ReadStdout(), "worker serving"); },
                  absl::Seconds(30)))
        << "worker " << i << " never started serving";
  }
  for (size_t i = 1; i < 4; ++i) ASSERT_OK(workers[i]->Signal(SIGTERM));
  for (size_t i = 1; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(ExitStatus exit, workers[i]->Wait(absl::Seconds(60)));
    EXPECT_TRUE(exit.Exited(0)) << "scaled-down worker " << i << ": " << exit.ToString();
  }
  // The last original worker dies hard; a replacement starts (its shards expire and requeue).
  ASSERT_OK(workers[0]->Signal(SIGKILL));
  ASSERT_OK(workers[0]->Wait(absl::Seconds(30)).status());
  ASSERT_OK(cluster->AddWorker());
  // Rolling update of the coordinator on the same address: SIGTERM, then a new process.
  ASSERT_OK(cluster->StopCoordinator());
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));

  ASSERT_OK_AND_ASSIGN(ExitStatus watched, watcher->Wait(absl::Seconds(240)));
  EXPECT_TRUE(watched.Exited(0)) << "the watcher failed instead of re-attaching: "
                                 << watched.ToString() << watcher->ReadStderr() << cluster->Logs();
  EXPECT_THAT(watcher->ReadStdout(), ::testing::HasSubstr("SUCCEEDED"));

  CommandResult distributed = cluster->Emarctl({"report", id, "--format", "json"});
  ASSERT_TRUE(distributed.exit.Exited(0)) << distributed.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(distributed.out));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report local, EmbeddedRunReport(job.job_file));
  EXPECT_EQ(DiffIgnoringJobId(report, local), "");
}

}  // namespace
}  // namespace emar::testing
