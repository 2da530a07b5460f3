#include "server/job_store.h"

#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

emar::v1::Job MakeJob(const std::string& id, const std::string& request_id, int64_t created) {
  emar::v1::Job j;
  j.set_job_id(id);
  j.set_request_id(request_id);
  j.set_name("n-" + id);
  j.set_state(emar::v1::JOB_STATE_QUEUED);
  j.set_created_unix_ms(created);
  return j;
}

std::vector<StoredShard> Shards(int n) {
  std::vector<StoredShard> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].task.set_shard_id(i);
    out[i].task.set_model("base");
    out[i].rows = 10 + i;
  }
  return out;
}

TEST(JobStoreTest, JobsShardsAndResultsSurviveReopen) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  r.add_reference_row(3);
  r.add_line(7);
  r.add_stats(1.0);
  {
    ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
    emar::v1::CreateJobRequest req;
    req.mutable_spec()->set_name("n-a");
    ASSERT_OK(store->CreateJob(MakeJob("a", "req-1", 1), req, Shards(3)));
    ASSERT_OK_AND_ASSIGN(bool fresh, store->RecordShardResult("a", 1, r));
    EXPECT_TRUE(fresh);
  }
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
  ASSERT_OK_AND_ASSIGN(auto job, store->GetJob("a"));
  EXPECT_EQ(job.name(), "n-a");
  ASSERT_OK_AND_ASSIGN(auto shards, store->GetShards("a"));
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_FALSE(shards[0].done);
  EXPECT_TRUE(shards[1].done);
  EXPECT_EQ(shards[2].rows, 12);
  ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("a"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].first, 1);
  EXPECT_EQ(results[0].second.line(0), 7u);
  ASSERT_OK_AND_ASSIGN(auto ids, store->ActiveJobIds());
  EXPECT_EQ(ids, std::vector<std::string>{"a"});
  ASSERT_OK_AND_ASSIGN(auto req, store->GetRequest("a"));
  EXPECT_EQ(req.spec().name(), "n-a");
}

TEST(JobStoreTest, SecondResultForShardIsIgnored) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  ASSERT_OK(store->CreateJob(MakeJob("a", "", 1), {}, Shards(1)));
  emar::v1::ShardResult first, second;
  first.add_stats(1);
  second.add_stats(0);
  ASSERT_OK_AND_ASSIGN(bool f1, store->RecordShardResult("a", 0, first));
  ASSERT_OK_AND_ASSIGN(bool f2, store->RecordShardResult("a", 0, second));
  EXPECT_TRUE(f1);
  EXPECT_FALSE(f2);
  ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("a"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.stats(0), 1);
}

TEST(JobStoreTest, RequestIdIsUniqueAndFindable) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  ASSERT_OK(store->CreateJob(MakeJob("a", "req-1", 1), {}, Shards(1)));
  EXPECT_THAT(store->CreateJob(MakeJob("b", "req-1", 2), {}, Shards(1)),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  // The failed insert left nothing behind.
  EXPECT_THAT(store->GetJob("b"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("'b'")));
  ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("req-1"));
  EXPECT_EQ(found.value_or(""), "a");
  // Jobs without a request id do not collide.
  ASSERT_OK(store->CreateJob(MakeJob("c", "", 3), {}, Shards(1)));
  ASSERT_OK(store->CreateJob(MakeJob("d", "", 4), {}, Shards(1)));
  ASSERT_OK_AND_ASSIGN(auto jobs, store->ListJobs(10));
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].job_id(), "d");  // newest first
}

TEST(JobStoreTest, ReportRoundTripsAndTerminalJobsAreNotActive) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  auto job = MakeJob("a", "", 1);
  ASSERT_OK(store->CreateJob(job, {}, Shards(1)));
  EXPECT_THAT(store->GetReport("a"), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  emar::v1::Report report;
  report.set_name("r");
  ASSERT_OK(store->SaveReport("a", report));
  job.set_state(emar::v1::JOB_STATE_SUCCEEDED);
  ASSERT_OK(store->UpdateJob(job));
  ASSERT_OK_AND_ASSIGN(auto got, store->GetReport("a"));
  EXPECT_EQ(got.name(), "r");
  ASSERT_OK_AND_ASSIGN(auto ids, store->ActiveJobIds());
  EXPECT_TRUE(ids.empty());
}

}  // namespace
}  // namespace emar
