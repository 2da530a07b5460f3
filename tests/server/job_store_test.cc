#include "server/job_store.h"

#include <sqlite3.h>

#include <thread>
#include <vector>

#include "absl/time/clock.h"
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
  ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("", "req-1"));
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

TEST(JobStoreTest, ALateNonTerminalStateNeverOverwritesATerminalOne) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  auto job = MakeJob("a", "", 1);
  ASSERT_OK(store->CreateJob(job, {}, Shards(1)));
  job.set_state(emar::v1::JOB_STATE_RUNNING);
  ASSERT_OK(store->UpdateJob(job));
  auto cancelled = job;
  cancelled.set_state(emar::v1::JOB_STATE_CANCELLED);
  ASSERT_OK(store->UpdateJob(cancelled));
  ASSERT_OK(store->UpdateJob(job));  // the RUNNING write that lost the race
  ASSERT_OK_AND_ASSIGN(auto got, store->GetJob("a"));
  EXPECT_EQ(got.state(), emar::v1::JOB_STATE_CANCELLED);
  ASSERT_OK_AND_ASSIGN(auto ids, store->ActiveJobIds());
  EXPECT_TRUE(ids.empty());
}

// Writers that arrive while a transaction commits share the next one. The database is held by a
// second connection so the first writer's BEGIN waits (busy timeout) while seven more queue.
TEST(JobStoreTest, ConcurrentWritesAreGroupCommittedAndEachGetsItsOwnResult) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
  ASSERT_OK(store->CreateJob(MakeJob("a", "", 1), {}, Shards(8)));
  const auto [batches_before, writes_before] = store->CommitCounts();

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<absl::StatusOr<bool>> fresh(8, false);
  std::vector<std::thread> writers;
  writers.emplace_back([&] { fresh[0] = store->RecordShardResult("a", 0, {}); });
  absl::SleepFor(absl::Milliseconds(50));  // the first writer now waits in BEGIN
  for (int i = 1; i < 8; ++i) {
    // Shard 7 is written twice: the second write must be told it is a duplicate.
    writers.emplace_back([&, i] { fresh[i] = store->RecordShardResult("a", i == 7 ? 6 : i, {}); });
  }
  for (int spins = 0; store->QueuedWrites() < 7 && spins < 2000; ++spins) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(store->QueuedWrites(), 7);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  for (std::thread& t : writers) t.join();
  sqlite3_close(other);

  int fresh_count = 0;
  for (const auto& f : fresh) {
    ASSERT_OK(f.status());
    fresh_count += *f;
  }
  EXPECT_EQ(fresh_count, 7);  // shard 6 once, shard 7 never
  const auto [batches, writes] = store->CommitCounts();
  EXPECT_EQ(writes - writes_before, 8);
  EXPECT_EQ(batches - batches_before, 2);  // the first writer's, then the seven queued behind it
  ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("a"));
  EXPECT_EQ(results.size(), 7u);
}

// A write failing inside a group (a duplicate request id) undoes only itself.
TEST(JobStoreTest, AFailingWriteInAGroupUndoesOnlyItself) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
  ASSERT_OK(store->CreateJob(MakeJob("a", "r1", 1), {}, Shards(1)));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  absl::Status first, duplicate, good;
  std::thread t0([&] { first = store->CreateJob(MakeJob("b", "r2", 2), {}, Shards(2)); });
  absl::SleepFor(absl::Milliseconds(50));
  std::thread t1([&] { duplicate = store->CreateJob(MakeJob("c", "r1", 3), {}, Shards(2)); });
  std::thread t2([&] { good = store->CreateJob(MakeJob("d", "r3", 4), {}, Shards(2)); });
  for (int spins = 0; store->QueuedWrites() < 2 && spins < 2000; ++spins) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  t0.join();
  t1.join();
  t2.join();
  sqlite3_close(other);
  EXPECT_OK(first);
  EXPECT_THAT(duplicate, StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  EXPECT_OK(good);
  EXPECT_THAT(store->GetJob("c"), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  ASSERT_OK_AND_ASSIGN(auto shards, store->GetShards("c"));
  EXPECT_TRUE(shards.empty());  // none of its shards either
  ASSERT_OK_AND_ASSIGN(auto d_shards, store->GetShards("d"));
  EXPECT_EQ(d_shards.size(), 2u);
}

}  // namespace
}  // namespace emar
