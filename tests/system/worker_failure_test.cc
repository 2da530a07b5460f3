// A worker killed with SIGKILL in the middle of a many-shard job: its leases expire, other
// workers take the shards over, and the report is exactly that of an undisturbed (embedded) run.
#include <signal.h>

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

constexpr size_t kTargetRows = 200000;
constexpr size_t kBenchmarkRows = 100000;
constexpr int64_t kRowsPerShard = 5000;  // 2 x 40 + 2 x 20 = 120 shards

absl::StatusOr<emar::v1::Job> Status(LocalCluster& cluster, const std::string& job_id) {
  CommandResult r = cluster.Emarctl({"status", job_id, "--format", "json"});
  if (!r.exit.Exited(0))
    return absl::InternalError(absl::StrCat("status: ", r.exit.ToString(), ": ", r.err));
  return ParseJobJson(r.out);
}

bool Terminal(const emar::v1::Job& j) {
  return j.state() == emar::v1::JOB_STATE_SUCCEEDED || j.state() == emar::v1::JOB_STATE_FAILED ||
         j.state() == emar::v1::JOB_STATE_CANCELLED;
}

std::string JobIdFrom(const std::string& submit_json) {
  const std::string key = "\"job_id\": \"";
  const size_t at = submit_json.find(key);
  if (at == std::string::npos) return "";
  const size_t end = submit_json.find('"', at + key.size());
  return submit_json.substr(at + key.size(), end - at - key.size());
}

TEST(WorkerFailureTest, KilledWorkersShardsAreRescoredAndTheReportIsUnchanged) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("bigjob"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob job,
                       WriteGeneratedJob(dir.path(), kTargetRows, kBenchmarkRows));

  ClusterOptions options;
  options.workers = 1;  // the victim alone first, so the job cannot finish without the takeover
  options.worker_threads = 2;
  options.rows_per_shard = kRowsPerShard;
  options.lease_ttl_seconds = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));

  CommandResult submitted =
      cluster->Emarctl({"submit", job.job_file, "--format", "json"}, absl::Seconds(60));
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.exit.ToString() << ": " << submitted.err;
  const std::string job_id = JobIdFrom(submitted.out);
  ASSERT_FALSE(job_id.empty()) << submitted.out;

  // Kill the worker once it has completed a shard and is busy with more.
  emar::v1::Job before;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto j = Status(*cluster, job_id);
        if (!j.ok()) return false;
        before = *j;
        return before.progress().shards_done() >= 1 || Terminal(before);
      },
      absl::Seconds(60), absl::Milliseconds(1)))
      << cluster->Logs();
  Process& victim = *cluster->workers()[0];
  ASSERT_OK(victim.Signal(SIGKILL));
  ASSERT_OK_AND_ASSIGN(ExitStatus killed, victim.Wait(absl::Seconds(10)));
  EXPECT_EQ(killed.signal, SIGKILL) << killed.ToString();

  ASSERT_OK_AND_ASSIGN(emar::v1::Job after_kill, Status(*cluster, job_id));
  ASSERT_FALSE(Terminal(after_kill))
      << "the job ended before its worker could be killed; make it bigger: "
      << after_kill.DebugString();
  ASSERT_GT(after_kill.progress().shards_total(), 1);
  ASSERT_LT(after_kill.progress().shards_done(), after_kill.progress().shards_total());
  std::cout << "killed the only worker at " << after_kill.progress().shards_done() << "/"
            << after_kill.progress().shards_total() << " shards" << std::endl;

  // Two fresh workers finish the job, including the shards the dead worker held.
  ASSERT_OK(cluster->AddWorker());
  ASSERT_OK(cluster->AddWorker());
  CommandResult watched =
      cluster->Emarctl({"watch", job_id, "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(watched.exit.Exited(0))
      << watched.exit.ToString() << ": " << watched.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job done, Status(*cluster, job_id));
  EXPECT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().shards_done(), done.progress().shards_total());
  EXPECT_EQ(done.progress().shards_total(), after_kill.progress().shards_total());

  CommandResult report_out = cluster->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(report_out.exit.Exited(0)) << report_out.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(report_out.out));
  ASSERT_EQ(report.candidates_size(), 1);
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.target().n(), static_cast<int64_t>(kTargetRows));
  EXPECT_EQ(c.benchmark().n(), static_cast<int64_t>(kBenchmarkRows));
  EXPECT_NEAR(c.target().base().value(), job.t0, 1e-12);
  EXPECT_NEAR(c.target().candidate().value(), job.t1, 1e-12);
  EXPECT_NEAR(c.benchmark().base().value(), job.b0, 1e-12);
  EXPECT_NEAR(c.benchmark().candidate().value(), job.b1, 1e-12);
  EXPECT_NEAR(c.emar().value(), (job.t1 - job.t0) / job.t0, 1e-12);

  // An undisturbed run of the same job (embedded, default shard size) gives the same report.
  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(job.job_file));
  EXPECT_EQ(DiffIgnoringJobId(report, undisturbed), "");
}

}  // namespace
}  // namespace emar::testing
