// The job store's numbered migrations: a database of every older schema (built here from that
// schema's SQL as earlier builds of server/job_store.cc wrote it) opens with its data intact and
// ends at the newest version; a database from a newer build is refused.
#include "server/job_store_schema.h"

#include <sqlite3.h>

#include <set>
#include <string>

#include "common/status_matchers.h"
#include "server/job_store.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// The first build's schema (no user_version: version 0).
constexpr const char* kFirstSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  request_id TEXT UNIQUE,
  created_ms INTEGER NOT NULL,
  state INTEGER NOT NULL,
  job BLOB NOT NULL,
  request BLOB NOT NULL,
  report BLOB
);
CREATE TABLE IF NOT EXISTS shards (
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL,
  task BLOB NOT NULL,
  rows INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, shard_id)
);
CREATE TABLE IF NOT EXISTS shard_results (
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (job_id, shard_id)
);
)sql";

// What the builds with bearer tokens added to it: owners and job blobs.
constexpr const char* kOwnersSchema = R"sql(
CREATE TABLE IF NOT EXISTS blob_owners (
  sha256 TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (sha256, owner)
);
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE TABLE job_blobs (
  job_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (job_id, sha256)
);
CREATE INDEX job_blobs_by_sha ON job_blobs(sha256);
)sql";

// What the builds with labels, the score cache and request fingerprints added (the last schema
// without a user_version).
constexpr const char* kLabelsSchema = R"sql(
CREATE TABLE IF NOT EXISTS job_labels (
  job_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (job_id, key)
);
CREATE INDEX IF NOT EXISTS job_labels_by_label ON job_labels(key, value);
CREATE TABLE IF NOT EXISTS score_cache (
  key TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  shard_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS score_cache_by_job ON score_cache(job_id);
ALTER TABLE jobs ADD COLUMN request_sha256 TEXT;
ALTER TABLE shards ADD COLUMN cache_key TEXT;
ALTER TABLE shards ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS shards_by_cache_key ON shards(cache_key);
)sql";

constexpr char kInputSha[] = "1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kRefSha[] = "2222222222222222222222222222222222222222222222222222222222222222";
constexpr char kOutSha[] = "3333333333333333333333333333333333333333333333333333333333333333";

// A raw connection, for building fixtures and looking at what the store wrote.
class Db {
 public:
  explicit Db(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~Db() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "") << "\n"
        << sql;
  }
  // Binds the blobs in order to a statement and runs it.
  void Insert(const char* sql, const std::vector<std::string>& blobs) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    for (size_t i = 0; i < blobs.size(); ++i) {
      sqlite3_bind_blob(s, static_cast<int>(i + 1), blobs[i].data(),
                        static_cast<int>(blobs[i].size()), SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(s);
  }
  std::set<std::string> Strings(const std::string& sql) {
    std::set<std::string> out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return {"<error>"};
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    }
    sqlite3_finalize(s);
    return out;
  }
  int Version() { return *ReadJobStoreVersion(db_); }

 private:
  sqlite3* db_ = nullptr;
};

emar::v1::ShardTask Task() {
  emar::v1::ShardTask t;
  t.set_job_id("job-1");
  t.set_shard_id(0);
  t.set_metric("accuracy");
  t.mutable_references()->set_sha256(kRefSha);
  t.mutable_outputs()->set_sha256(kOutSha);
  return t;
}

emar::v1::ShardResult Result() {
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  r.add_reference_row(0);
  r.add_line(1);
  r.add_stats(1.0);
  return r;
}

// One finished job with one done shard and its result, as the first build stored it.
void InsertJob(Db& db) {
  emar::v1::Job job;
  job.set_job_id("job-1");
  job.set_name("old");
  job.set_state(emar::v1::JOB_STATE_SUCCEEDED);
  job.set_request_id("req-1");
  emar::v1::CreateJobRequest request;
  request.set_request_id("req-1");
  (*request.mutable_input_digests())["t.jsonl"] = kInputSha;
  db.Insert(
      "INSERT INTO jobs(job_id, request_id, created_ms, state, job, request) "
      "VALUES('job-1', 'req-1', 1000, 3, ?, ?)",
      {job.SerializeAsString(), request.SerializeAsString()});
  db.Insert(
      "INSERT INTO shards(job_id, shard_id, task, rows, done, attempts) "
      "VALUES('job-1', 0, ?, 1, 1, 1)",
      {Task().SerializeAsString()});
  db.Insert("INSERT INTO shard_results(job_id, shard_id, result) VALUES('job-1', 0, ?)",
            {Result().SerializeAsString()});
}

// The job_blobs rows the builds that had the table wrote for that job.
void InsertJobBlobs(Db& db) {
  db.Exec("INSERT INTO job_blobs VALUES('job-1', '" + std::string(kInputSha) + "'), ('job-1', '" +
          kRefSha + "'), ('job-1', '" + kOutSha + "')");
}

// Opens the store on a fixture and checks the job, its shard and result are all there.
void ExpectJobSurvives(const std::string& path) {
  ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, store->GetJob("job-1"));
  EXPECT_EQ(job.name(), "old");
  EXPECT_EQ(job.state(), emar::v1::JOB_STATE_SUCCEEDED);
  ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("", "req-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->job_id, "job-1");
  ASSERT_OK_AND_ASSIGN(auto shards, store->GetShards("job-1"));
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_TRUE(shards[0].done);
  EXPECT_EQ(shards[0].task.references().sha256(), kRefSha);
  ASSERT_OK_AND_ASSIGN(auto results, store->GetShardResults("job-1"));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.SerializeAsString(), Result().SerializeAsString());
  // The blobs the job reads are known, so none of them may be forgotten.
  ASSERT_OK_AND_ASSIGN(auto freed, store->ForgetUnreferencedBlobs({kInputSha, kRefSha, kOutSha}));
  EXPECT_TRUE(freed.empty());
}

TEST(JobStoreSchemaTest, ANewStoreIsAtTheNewestVersion) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  { ASSERT_OK(JobStore::Open(path).status()); }
  EXPECT_EQ(Db(path).Version(), JobStoreSchemaVersion());
  EXPECT_GE(JobStoreSchemaVersion(), 3);
}

// The query plan of `sql` on the store at `path`: one detail line per step.
std::vector<std::string> QueryPlan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  std::vector<std::string> plan;
  if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr) != SQLITE_OK) {
    plan.push_back(sqlite3_errmsg(db));
  }
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    plan.push_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return plan;
}

// A page of jobs, newest first (all, a principal's, in a state), is read in order from an index,
// never sorted whole.
TEST(JobStoreSchemaTest, PagesOfNewestJobsUseTheirIndexes) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  { ASSERT_OK(JobStore::Open(path).status()); }
  const std::string order = " ORDER BY created_ms DESC, rowid DESC LIMIT 51";
  EXPECT_EQ(QueryPlan(path, "SELECT job FROM jobs WHERE 1" + order),
            (std::vector<std::string>{"SCAN jobs USING INDEX jobs_by_created"}));
  EXPECT_EQ(QueryPlan(path, "SELECT job FROM jobs WHERE owner = 'a'" + order),
            (std::vector<std::string>{"SEARCH jobs USING INDEX jobs_by_owner (owner=?)"}));
  EXPECT_EQ(QueryPlan(path, "SELECT job FROM jobs WHERE state IN (4)" + order),
            (std::vector<std::string>{"SEARCH jobs USING INDEX jobs_by_state (state=?)"}));
}

TEST(JobStoreSchemaTest, TheFirstBuildsStoreKeepsItsJobsAndGetsJobBlobsBackfilled) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  {
    Db db(path);
    db.Exec(kFirstSchema);
    InsertJob(db);
  }
  ExpectJobSurvives(path);
  Db db(path);
  EXPECT_EQ(db.Version(), JobStoreSchemaVersion());
  EXPECT_EQ(db.Strings("SELECT sha256 FROM job_blobs WHERE job_id = 'job-1'"),
            (std::set<std::string>{kInputSha, kRefSha, kOutSha}));
  EXPECT_EQ(db.Strings("SELECT owner FROM jobs"), std::set<std::string>{""});
}

TEST(JobStoreSchemaTest, AStoreWithOwnersKeepsItsJobBlobsAsTheyWere) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  {
    Db db(path);
    db.Exec(kFirstSchema);
    db.Exec(kOwnersSchema);
    InsertJob(db);
    db.Exec("UPDATE jobs SET owner = 'alice', request_id = 'alice/req-1'");  // RequestKey
    // Written by that build: the backfill must not run again over a table it already has.
    InsertJobBlobs(db);
    db.Exec("INSERT INTO blob_owners VALUES('" + std::string(kInputSha) + "', 'alice')");
  }
  {
    ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
    ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("alice", "req-1"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->job_id, "job-1");
    EXPECT_TRUE(found->fingerprint.empty());  // older jobs have none
    ASSERT_OK_AND_ASSIGN(bool owns, store->OwnsBlob("alice", kInputSha));
    EXPECT_TRUE(owns);
  }
  Db db(path);
  EXPECT_EQ(db.Version(), JobStoreSchemaVersion());
  EXPECT_EQ(db.Strings("SELECT sha256 FROM job_blobs").size(), 3u);
}

TEST(JobStoreSchemaTest, TheLastUnnumberedStoreKeepsLabelsAndTheScoreCache) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  {
    Db db(path);
    db.Exec(kFirstSchema);
    db.Exec(kOwnersSchema);
    db.Exec(kLabelsSchema);
    InsertJob(db);
    InsertJobBlobs(db);  // as that build wrote them with the job
    db.Exec("INSERT INTO job_labels VALUES('job-1', 'run', 'exp-42')");
    db.Exec("UPDATE shards SET cache_key = 'k1'");
    db.Exec("INSERT INTO score_cache VALUES('k1', 'job-1', 0)");
    db.Exec("UPDATE jobs SET request_sha256 = 'fp'");
  }
  ExpectJobSurvives(path);
  {
    ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(path));
    JobQuery query;
    query.labels = {{"run", "exp-42"}};
    ASSERT_OK_AND_ASSIGN(JobPage page, store->QueryJobs(query));
    ASSERT_EQ(page.jobs.size(), 1u);
    EXPECT_EQ(page.jobs[0].job_id(), "job-1");
    ASSERT_OK_AND_ASSIGN(auto found, store->FindJobByRequestId("", "req-1"));
    EXPECT_EQ(found->fingerprint, "fp");
    ASSERT_OK_AND_ASSIGN(auto shards, store->GetShards("job-1"));
    EXPECT_EQ(shards[0].cache_key, "k1");
  }
  Db db(path);
  EXPECT_EQ(db.Version(), JobStoreSchemaVersion());
  EXPECT_EQ(db.Strings("SELECT key FROM score_cache"), std::set<std::string>{"k1"});
}

TEST(JobStoreSchemaTest, ANumberedStoreRunsOnlyTheMigrationsAboveItsVersion) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  {
    Db db(path);
    db.Exec(kFirstSchema);
    InsertJob(db);
    db.Exec("PRAGMA user_version = 1");
  }
  ExpectJobSurvives(path);
  EXPECT_EQ(Db(path).Version(), JobStoreSchemaVersion());
  // Opening again changes nothing.
  ExpectJobSurvives(path);
  EXPECT_EQ(Db(path).Version(), JobStoreSchemaVersion());
}

TEST(JobStoreSchemaTest, AStoreFromANewerBuildIsRefusedNamingItsPath) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  { ASSERT_OK(JobStore::Open(path).status()); }
  Db(path).Exec("PRAGMA user_version = " + std::to_string(JobStoreSchemaVersion() + 1));
  EXPECT_THAT(JobStore::Open(path).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(path + ": job store schema version")));
}

TEST(JobStoreSchemaTest, AFailedMigrationIsRolledBackAndNamed) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  {
    Db db(path);
    db.Exec(kFirstSchema);
    InsertJob(db);
    db.Exec("UPDATE jobs SET request = x'ff'");  // not a CreateJobRequest: the backfill fails
  }
  EXPECT_THAT(JobStore::Open(path).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("job store migration 2 (owners and job blobs): corrupt "
                                 "stored job request of job job-1")));
  Db db(path);
  EXPECT_EQ(db.Version(), 1);  // the first migration held, the second left no trace
  EXPECT_EQ(db.Strings("SELECT name FROM sqlite_master WHERE name = 'job_blobs'").size(), 0u);
  EXPECT_EQ(db.Strings("SELECT name FROM pragma_table_info('jobs') WHERE name = 'owner'").size(),
            0u);
}

}  // namespace
}  // namespace emar
