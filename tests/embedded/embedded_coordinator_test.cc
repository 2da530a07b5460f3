// The embedded mode: a coordinator, its server on an in-process channel and worker threads in
// this process, driven through the real client library like `emarctl run` drives it.
#include "embedded/embedded_coordinator.h"

#include <dirent.h>
#include <stdlib.h>

#include <string>

#include "client/evaluation_client.h"
#include "common/status_matchers.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

// Entries of a directory, without . and ..
int Entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

absl::StatusOr<emar::v1::Job> RunToEnd(EmbeddedCoordinator& embedded, const JobFile& job) {
  EvaluationClient client(embedded.channel());
  auto created = client.Submit(job, "");
  if (!created.ok()) return created.status();
  return client.Watch(created->job_id(), nullptr);
}

TEST(EmbeddedCoordinatorTest, RunsAJobWithItsWorkersAndShardSize) {
  TempDir inputs;
  SmallJob job(inputs.path());
  ASSERT_OK_AND_ASSIGN(auto embedded,
                       EmbeddedCoordinator::Start({.worker_threads = 3, .rows_per_shard = 2}));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job done, RunToEnd(*embedded, job.Load()));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().shards_total(), 8);  // 4 files of 4 or 3 rows, 2 rows a shard
  EXPECT_EQ(done.progress().examples_scored(), 14);
  EvaluationClient client(embedded->channel());
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, client.GetReport(done.job_id()));
  ASSERT_EQ(report.candidates_size(), 1);
  EXPECT_DOUBLE_EQ(report.candidates(0).emar().value(), 0.25 / 0.5);  // (T1 - T0) / T0
}

TEST(EmbeddedCoordinatorTest, ATemporaryDataDirIsRemovedWhenItStops) {
  TempDir inputs, tmp;
  SmallJob job(inputs.path());
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  {
    auto embedded = EmbeddedCoordinator::Start({});
    if (saved.empty()) {
      ::unsetenv("TMPDIR");
    } else {
      ::setenv("TMPDIR", saved.c_str(), 1);
    }
    ASSERT_OK(embedded.status());
    EXPECT_EQ(Entries(tmp.path()), 1);  // emar-embedded-XXXXXX
    ASSERT_OK_AND_ASSIGN(emar::v1::Job done, RunToEnd(**embedded, job.Load()));
    EXPECT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  }
  EXPECT_EQ(Entries(tmp.path()), 0);
}

TEST(EmbeddedCoordinatorTest, AGivenDataDirIsKeptAndAResumedCoordinatorKnowsItsJobs) {
  TempDir inputs, data;
  SmallJob job(inputs.path());
  std::string job_id;
  {
    ASSERT_OK_AND_ASSIGN(auto embedded, EmbeddedCoordinator::Start({.data_dir = data.path()}));
    ASSERT_OK_AND_ASSIGN(emar::v1::Job done, RunToEnd(*embedded, job.Load()));
    ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
    job_id = done.job_id();
  }
  EXPECT_GT(Entries(data.path()), 0);
  ASSERT_OK_AND_ASSIGN(auto again, EmbeddedCoordinator::Start({.data_dir = data.path()}));
  EvaluationClient client(again->channel());
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, client.GetReport(job_id));
  ASSERT_EQ(report.candidates_size(), 1);
  EXPECT_DOUBLE_EQ(report.candidates(0).emar().value(), 0.5);
}

TEST(EmbeddedCoordinatorTest, AnUnusableDataDirIsAnError) {
  TempDir inputs;
  SmallJob job(inputs.path());
  Write(inputs.path() + "/file", "not a directory");
  EXPECT_FALSE(EmbeddedCoordinator::Start({.data_dir = inputs.path() + "/file/sub"}).ok());
}

}  // namespace
}  // namespace emar
