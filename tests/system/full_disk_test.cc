// A full disk is an outage, not a verdict, as real processes on loopback: the coordinator's data
// dir is an 8 MiB tmpfs, filled while a job's shards are being scored and freed again. The job
// must keep its leases and attempts (--max-attempts 1: a single spent attempt fails it), the
// coordinator must say not-ready with the reason, and the job must finish with the report an
// undisturbed run gives once space returns.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/http_probe.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

// Writes `path` until the file system has no space left; returns the bytes written.
int64_t FillUp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  const std::string block(64 << 10, 'x');
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;
    total += n;
  }
  for (;;) {  // the last partial page
    const ssize_t n = ::write(fd, block.data(), 1);
    if (n <= 0) break;
    total += n;
  }
  ::close(fd);
  return total;
}

std::string JobState(LocalCluster& cluster, const std::string& job_id) {
  CommandResult r = cluster.Emarctl({"status", job_id, "--format", "json"});
  absl::StatusOr<emar::v1::Job> job = ParseJobJson(r.out);
  return job.ok() ? emar::v1::JobState_Name(job->state()) : r.err;
}

TEST(FullDiskTest, AFullDiskIsAnOutageAndTheJobFinishesOnceSpaceReturns) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("full-disk"));
  const std::string data = dir.Join("store");
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  CommandResult mounted =
      RunCommand({"/bin/mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data}, absl::Seconds(10));
  if (!mounted.exit.Exited(0)) {
    GTEST_SKIP() << "cannot mount an 8 MiB tmpfs for the data dir (needs root or CAP_SYS_ADMIN; "
                 << "CI runs as root): " << mounted.err;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{data};

  ASSERT_OK_AND_ASSIGN(GeneratedJob gen, WriteGeneratedJob(dir.path(), 4000, 2000, 100));
  ClusterOptions options;
  options.workers = 0;  // the job waits, queued, until the disk is full
  options.rows_per_shard = 1000;
  options.lease_ttl_seconds = 2;
  options.data_dir = data;
  options.coordinator_flags = {"--max_attempts",      "1",
                               "--metrics_listen",    "127.0.0.1:0",
                               "--metrics_port_file", dir.Join("metrics-port")};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  const int probe = WaitForPortFile(dir.Join("metrics-port"), cluster->coordinator());
  ASSERT_GT(probe, 0) << cluster->Logs();
  CommandResult submitted = cluster->Emarctl({"submit", gen.job_file, "--format", "json"});
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, ParseJobJson(submitted.out));

  const std::string filler = absl::StrCat(data, "/filler");
  ASSERT_GT(FillUp(filler), 0);
  ASSERT_OK(cluster->AddWorker());
  // The first result finds no space: the coordinator says so on /readyz.
  std::string readyz;
  ASSERT_TRUE(PollUntil(
      [&] {
        readyz = HttpGet(probe, "/readyz", absl::Seconds(5));
        return absl::StrContains(readyz, " 503 ");
      },
      absl::Seconds(60)))
      << readyz << cluster->Logs();
  EXPECT_THAT(readyz, HasSubstr("out of space"));
  // Three lease TTLs later the job is still alive: leases kept, no attempt spent.
  absl::SleepFor(absl::Seconds(6));
  EXPECT_THAT(JobState(*cluster, job.job_id()),
              ::testing::AnyOf("JOB_STATE_RUNNING", "JOB_STATE_QUEUED"));

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  const absl::Time freed = absl::Now();
  CommandResult watched =
      cluster->Emarctl({"watch", job.job_id(), "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(watched.exit.Exited(0)) << watched.err << cluster->Logs();
  std::cerr << "FullDiskTest: the job finished " << absl::ToDoubleSeconds(absl::Now() - freed)
            << " s after space returned" << std::endl;
  EXPECT_THAT(HttpGet(probe, "/readyz", absl::Seconds(5)), HasSubstr(" 200 "));
  CommandResult report_out = cluster->Emarctl({"report", job.job_id(), "--format", "json"});
  ASSERT_TRUE(report_out.exit.Exited(0)) << report_out.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(report_out.out));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(gen.job_file));
  EXPECT_EQ(DiffIgnoringJobId(report, undisturbed), "");
}

}  // namespace
}  // namespace emar::testing
