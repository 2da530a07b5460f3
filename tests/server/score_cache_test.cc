// What a worker token can do to results and the score cache, on a real coordinator with tokens
// over loopback: the test acts as a worker (a worker token, Lease and Complete by hand) and sends
// forged results. Impossible ones are refused before they are stored; possible but made-up ones
// stay within the principal whose job they answered; a job may bypass the cache and an admin may
// drop its entries.
#include <cmath>
#include <limits>
#include <optional>

#include "common/file_util.h"
#include "server/content_keys.h"
#include "tests/server/secured_coordinator.h"
#include "tests/server/small_job.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

class ScoreCacheTest : public SecuredCoordinatorTest {
 protected:
  std::optional<emar::v1::ShardTask> LeaseOne() {
    grpc::ClientContext ctx;
    emar::v1::LeaseRequest req;
    req.set_worker_id("forger");
    req.set_wait_ms(5000);
    emar::v1::LeaseResponse resp;
    EXPECT_TRUE(forger_->Lease(&ctx, req, &resp).ok());
    if (!resp.has_task()) return std::nullopt;
    return resp.task();
  }
  // Leases shard `shard_id`, handing back (as failures) the shards leased before it.
  std::optional<emar::v1::ShardTask> LeaseShard(int32_t shard_id) {
    for (int i = 0; i < 20; ++i) {
      std::optional<emar::v1::ShardTask> task = LeaseOne();
      if (!task || task->shard_id() == shard_id) return task;
      grpc::ClientContext ctx;
      emar::v1::CompleteRequest req;
      req.set_lease_id(task->lease_id());
      req.set_job_id(task->job_id());
      req.set_shard_id(task->shard_id());
      req.mutable_failure()->set_message("not this one");
      emar::v1::CompleteResponse resp;
      EXPECT_TRUE(forger_->Complete(&ctx, req, &resp).ok());
    }
    return std::nullopt;
  }
  grpc::Status Complete(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result) {
    grpc::ClientContext ctx;
    emar::v1::CompleteRequest req;
    req.set_lease_id(task.lease_id());
    req.set_worker_id("forger");
    req.set_job_id(task.job_id());
    req.set_shard_id(task.shard_id());
    *req.mutable_result() = result;
    emar::v1::CompleteResponse resp;
    return forger_->Complete(&ctx, req, &resp);
  }
  // A result of the task's shape (one row per output line, every reference row once: the small
  // job's shards each hold a whole file) whose every statistic is `value`.
  static emar::v1::ShardResult Forged(const emar::v1::ShardTask& task, double value) {
    emar::v1::ShardResult r;
    r.set_stats_width(1);  // accuracy and exact_match
    for (int64_t i = 0; i < task.rows(); ++i) {
      r.add_reference_row(static_cast<uint32_t>(i));
      r.add_line(static_cast<uint64_t>(task.first_line() + i));
      r.add_stats(value);
    }
    return r;
  }
  // Submits the small job as `token`, waits for it and returns it finished.
  emar::v1::Job Run(const char* token, bool no_cache = false) {
    JobFile file = job_->Load();
    file.spec.set_no_cache(no_cache);
    auto client = Client(token);
    absl::StatusOr<emar::v1::Job> created = client->Submit(file, "");
    EXPECT_OK(created.status());
    if (!created.ok()) return {};
    absl::StatusOr<emar::v1::Job> done = client->Watch(created->job_id(), nullptr);
    EXPECT_OK(done.status());
    return done.ok() ? *done : emar::v1::Job();
  }
  double BaseTarget(const char* token, const emar::v1::Job& job) {
    absl::StatusOr<emar::v1::Report> report = Client(token)->GetReport(job.job_id());
    EXPECT_OK(report.status()) << job.error();
    return report.ok() ? report->candidates(0).target().base().value() : -1;
  }

  std::unique_ptr<SmallJob> job_;
  std::unique_ptr<emar::v1::WorkerService::Stub> forger_;
};

TEST_F(ScoreCacheTest, ImpossibleResultsAreRefusedRequeuedAndNeverCached) {
  CoordinatorOptions o;
  o.scheduler.max_attempts = 10;
  Start(o);
  job_ = std::make_unique<SmallJob>(inputs_.path());
  forger_ = WorkerStub(kWorker);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, Client(kAlice)->Submit(job_->Load(), ""));
  std::optional<emar::v1::ShardTask> task = LeaseOne();
  ASSERT_TRUE(task.has_value());
  ASSERT_EQ(task->rows(), 4);  // base on the target: four lines
  const std::string key = ScoreCacheKey(*task, "alice");

  // Zero rows, then the right rows with statistics no accuracy scorer produces: refused, and the
  // shard is requeued at once, an attempt spent each time.
  emar::v1::ShardResult zero_rows;
  zero_rows.set_stats_width(1);
  grpc::Status st = Complete(*task, zero_rows);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("0 rows, the shard's outputs have 4"));
  int attempt = 1;
  for (double bad : {7.0, -1.0, 1.5, std::nan(""), -std::numeric_limits<double>::infinity()}) {
    task = LeaseShard(0);  // requeued behind the job's other shards
    ASSERT_TRUE(task.has_value());
    EXPECT_EQ(task->attempt(), ++attempt);
    st = Complete(*task, Forged(*task, bad));
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(st.error_message(), HasSubstr("row 0 column 0 is")) << bad;
  }
  task = LeaseShard(0);
  ASSERT_TRUE(task.has_value());
  ASSERT_OK_AND_ASSIGN(auto entry, coordinator_->job_store().CacheEntrySource(key));
  EXPECT_FALSE(entry.has_value());

  // An honest worker takes it from here: the report is right and the cache names who made it.
  ASSERT_TRUE(Complete(*task, Forged(*task, 1.0)).ok());  // within range: accepted
  StartWorker(kWorker, "honest-worker");
  ASSERT_OK_AND_ASSIGN(emar::v1::Job done, Client(kAlice)->Watch(job.job_id(), nullptr));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(entry, coordinator_->job_store().CacheEntrySource(key));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->first, "alice");
  EXPECT_EQ(entry->second, "forger");
}

TEST_F(ScoreCacheTest, MadeUpStatisticsStayWithTheirPrincipalUntilRescoredOrDropped) {
  Start();
  job_ = std::make_unique<SmallJob>(inputs_.path());
  forger_ = WorkerStub(kWorker);
  // Alice's first job is answered by a forger with possible but made-up statistics (all 1).
  ASSERT_OK_AND_ASSIGN(emar::v1::Job forged_job, Client(kAlice)->Submit(job_->Load(), ""));
  for (int i = 0; i < forged_job.progress().shards_total(); ++i) {
    std::optional<emar::v1::ShardTask> task = LeaseOne();
    ASSERT_TRUE(task.has_value());
    ASSERT_TRUE(Complete(*task, Forged(*task, 1.0)).ok());
  }
  ASSERT_OK_AND_ASSIGN(forged_job, Client(kAlice)->Watch(forged_job.job_id(), nullptr));
  EXPECT_DOUBLE_EQ(BaseTarget(kAlice, forged_job), 1.0);  // the honest value is 0.5

  // Bob's job over the same files reuses none of it: his report is the honest one.
  StartWorker(kWorker, "honest-worker");
  const emar::v1::Job bobs = Run(kBob);
  EXPECT_EQ(bobs.progress().shards_reused(), 0);
  EXPECT_DOUBLE_EQ(BaseTarget(kBob, bobs), 0.5);

  // Alice's own entries are hers: reused, poisoned, until she asks for a rescore...
  const emar::v1::Job again = Run(kAlice);
  EXPECT_EQ(again.progress().shards_reused(), again.progress().shards_total());
  EXPECT_DOUBLE_EQ(BaseTarget(kAlice, again), 1.0);
  const emar::v1::Job rescored = Run(kAlice, /*no_cache=*/true);
  EXPECT_EQ(rescored.progress().shards_reused(), 0);
  EXPECT_DOUBLE_EQ(BaseTarget(kAlice, rescored), 0.5);
  // ... whose honest results replaced the entries.
  const emar::v1::Job after = Run(kAlice);
  EXPECT_EQ(after.progress().shards_reused(), after.progress().shards_total());
  EXPECT_DOUBLE_EQ(BaseTarget(kAlice, after), 0.5);

  // Dropping entries is for admins; by job, then by an input's digest (Alice's and Bob's).
  EXPECT_THAT(Client(kAlice)->DropCache(after.job_id(), ""),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("admin token")));
  ASSERT_OK_AND_ASSIGN(auto dropped, Client(kRoot)->DropCache(after.job_id(), ""));
  EXPECT_EQ(dropped.entries_dropped(), 4);
  EXPECT_EQ(Run(kAlice).progress().shards_reused(), 0);
  const std::string cand_b = Sha256Hex(ReadFileToString(job_->dir + "/cand.b.jsonl").value());
  ASSERT_OK_AND_ASSIGN(dropped, Client(kRoot)->DropCache("", cand_b));
  EXPECT_EQ(dropped.entries_dropped(), 2);  // Alice's and Bob's entry for that file
  const emar::v1::Job partly = Run(kBob);
  EXPECT_EQ(partly.progress().shards_reused(), 3);
  EXPECT_DOUBLE_EQ(BaseTarget(kBob, partly), 0.5);
}

}  // namespace
}  // namespace emar
