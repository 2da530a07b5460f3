#include "server/job_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

// The embedded default's scratch store (durable = false): large pages, no fsync, no checkpoints
// (not even at close);
// what it stores is read back the same, also after a reopen. A coordinator's store keeps
// SQLite's default page.
TEST(JobStoreTest, AScratchStoreUsesLargePagesAndKeepsWhatItStores) {
  TempDir dir;
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  for (int i = 0; i < 20000; ++i) {  // ~100 KB: spans pages of either size
    r.add_reference_row(i);
    r.add_line(i + 1);
    r.add_stats(i % 3 == 0 ? 1.0 : 0.0);
  }
  for (const bool durable : {false, true}) {
    const std::string path = absl::StrCat(dir.path(), "/jobs-", durable, ".db");
    {
      ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path, durable));
      ASSERT_OK(store->CreateJob(MakeJob("a", "", 1), {}, Shards(1)));
      ASSERT_OK(store->RecordShardResult("a", 0, r).status());
    }
    // Closed: a durable store checkpoints its log into the file and removes it; a scratch store
    // leaves it (copying it would be wasted: both are deleted with the process).
    struct stat wal;
    const bool has_wal = ::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0;
    EXPECT_EQ(has_wal, !durable) << path;
    ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path, durable));
    ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("a"));
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].second.SerializeAsString(), r.SerializeAsString());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), durable ? 4096 : 65536) << path;
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
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
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->job_id, "a");
  // Jobs without a request id do not collide.
  ASSERT_OK(store->CreateJob(MakeJob("c", "", 3), {}, Shards(1)));
  ASSERT_OK(store->CreateJob(MakeJob("d", "", 4), {}, Shards(1)));
  JobQuery newest;
  newest.limit = 10;
  ASSERT_OK_AND_ASSIGN(JobPage page, store->QueryJobs(newest));
  const std::vector<emar::v1::Job>& jobs = page.jobs;
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
  std::thread t0([&] { first = store->CreateJob(MakeJob("b", "r2", 2), {}, Shards(2)).status(); });
  absl::SleepFor(absl::Milliseconds(50));
  std::thread t1(
      [&] { duplicate = store->CreateJob(MakeJob("c", "r1", 3), {}, Shards(2)).status(); });
  std::thread t2([&] { good = store->CreateJob(MakeJob("d", "r3", 4), {}, Shards(2)).status(); });
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

namespace emar {
namespace {

emar::v1::ShardResult OneRow(double stat) {
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  r.add_reference_row(0);
  r.add_line(1);
  r.add_stats(stat);
  return r;
}

// Labels filter ListJobs, and pages neither skip nor repeat jobs, even when jobs are
// created between pages.
TEST(JobStoreTest, JobsAreFilteredByEveryLabelAndPagedNewestFirst) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  for (int i = 0; i < 7; ++i) {
    emar::v1::Job j = MakeJob(absl::StrCat("j", i), "", /*created=*/100);  // same millisecond
    (*j.mutable_labels())["run"] = i % 2 == 0 ? "exp-1" : "exp-2";
    (*j.mutable_labels())["step"] = absl::StrCat(i * 100);
    ASSERT_OK(store->CreateJob(j, {}, Shards(1)));
  }
  JobQuery q;
  q.limit = 2;
  q.labels = {{"run", "exp-1"}};
  std::vector<std::string> seen;
  for (int page = 0;; ++page) {
    ASSERT_LT(page, 10);
    ASSERT_OK_AND_ASSIGN(JobPage p, store->QueryJobs(q));
    for (const auto& j : p.jobs) seen.push_back(j.job_id());
    if (page == 0) {
      // A job created between pages appears on none of the later ones.
      emar::v1::Job late = MakeJob("late", "", 50);
      (*late.mutable_labels())["run"] = "exp-1";
      ASSERT_OK(store->CreateJob(late, {}, Shards(1)));
    }
    if (p.next_page_token.empty()) break;
    q.page_token = p.next_page_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"j6", "j4", "j2", "j0", "late"}));
  q = JobQuery{};
  q.labels = {{"run", "exp-2"}, {"step", "300"}};
  ASSERT_OK_AND_ASSIGN(JobPage both, store->QueryJobs(q));
  ASSERT_EQ(both.jobs.size(), 1u);
  EXPECT_EQ(both.jobs[0].job_id(), "j3");
  EXPECT_EQ(both.jobs[0].labels().at("step"), "300");
  q.page_token = "not-a-token";
  EXPECT_THAT(store->QueryJobs(q),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("page_token")));
}

// A state filter keeps the jobs in one of its states, as they were last written.
TEST(JobStoreTest, JobsAreFilteredByState) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(store->CreateJob(MakeJob(absl::StrCat("j", i), "", 100 + i), {}, Shards(1)));
  }
  emar::v1::Job done = MakeJob("j1", "", 101);
  done.set_state(emar::v1::JOB_STATE_SUCCEEDED);
  ASSERT_OK(store->UpdateJob(done));
  emar::v1::Job failed = MakeJob("j2", "", 102);
  failed.set_state(emar::v1::JOB_STATE_FAILED);
  ASSERT_OK(store->UpdateJob(failed));
  JobQuery q;
  q.states = {emar::v1::JOB_STATE_SUCCEEDED, emar::v1::JOB_STATE_FAILED};
  ASSERT_OK_AND_ASSIGN(JobPage p, store->QueryJobs(q));
  std::vector<std::string> ids;
  for (const auto& j : p.jobs) ids.push_back(j.job_id());
  EXPECT_EQ(ids, (std::vector<std::string>{"j2", "j1"}));
  q.states = {emar::v1::JOB_STATE_CANCELLED};
  ASSERT_OK_AND_ASSIGN(JobPage none, store->QueryJobs(q));
  EXPECT_TRUE(none.jobs.empty());
}

// The request's fingerprint is kept with its id.
TEST(JobStoreTest, RequestIdsKeepTheirRequestsFingerprint) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  ASSERT_OK(store->CreateJob(MakeJob("a", "req-1", 1), {}, Shards(1), "fp-1"));
  ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("", "req-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->job_id, "a");
  EXPECT_EQ(found->fingerprint, "fp-1");
}

// A shard with a cached key is stored done with a copy of the cached result; deleting
// the job the cache pointed at moves the entry to another copy, and the last copy's deletion
// empties it.
TEST(JobStoreTest, ScoreCacheCopiesResultsAndSurvivesDeletingTheirFirstJob) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(dir.path() + "/jobs.db"));
  auto keyed = [](int n) {
    std::vector<StoredShard> shards = Shards(n);
    for (int i = 0; i < n; ++i) shards[i].cache_key = absl::StrCat("key-", i);
    return shards;
  };
  ASSERT_OK_AND_ASSIGN(auto none, store->CreateJob(MakeJob("a", "", 1), {}, keyed(2)));
  EXPECT_TRUE(none.empty());  // nothing cached yet
  ASSERT_OK_AND_ASSIGN(bool fresh, store->RecordShardResult("a", 0, OneRow(0.25)));
  EXPECT_TRUE(fresh);
  // Shard 1 of "a" was never scored: only key-0 is cached.
  ASSERT_OK_AND_ASSIGN(auto reused, store->CreateJob(MakeJob("b", "", 2), {}, keyed(3)));
  EXPECT_EQ(reused, (std::vector<int32_t>{0}));
  ASSERT_OK_AND_ASSIGN(auto shards, store->GetShards("b"));
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_TRUE(shards[0].done && shards[0].reused);
  EXPECT_FALSE(shards[1].done || shards[1].reused);
  ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("b"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.stats(0), 0.25);
  // A reused shard cannot be completed again.
  ASSERT_OK_AND_ASSIGN(fresh, store->RecordShardResult("b", 0, OneRow(0.5)));
  EXPECT_FALSE(fresh);

  ASSERT_OK(store->DeleteJob("a").status());
  ASSERT_OK_AND_ASSIGN(reused, store->CreateJob(MakeJob("c", "", 3), {}, keyed(1)));
  EXPECT_EQ(reused, (std::vector<int32_t>{0}));  // now from b's copy
  ASSERT_OK(store->DeleteJob("b").status());
  ASSERT_OK(store->DeleteJob("c").status());
  ASSERT_OK_AND_ASSIGN(reused, store->CreateJob(MakeJob("d", "", 4), {}, keyed(1)));
  EXPECT_TRUE(reused.empty());  // no copy left
  // Shards without a key are never cached.
  ASSERT_OK_AND_ASSIGN(fresh, store->RecordShardResult("d", 0, OneRow(1)));
  ASSERT_OK_AND_ASSIGN(reused, store->CreateJob(MakeJob("e", "", 5), {}, Shards(1)));
  EXPECT_TRUE(reused.empty());
}

}  // namespace
}  // namespace emar
