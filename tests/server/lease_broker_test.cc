// LeaseBroker: long-polls paired with shards in order, the leased hook before the answer, wait
// timeouts on the tick, lease checks for results and failures, expiry, and shutdown.
#include "server/lease_broker.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "tests/server/fake_clock.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

constexpr absl::Duration kTtl = absl::Seconds(30);

std::vector<emar::v1::ShardTask> Tasks(const std::string& job_id, int n) {
  std::vector<emar::v1::ShardTask> tasks;
  for (int i = 0; i < n; ++i) {
    emar::v1::ShardTask t;
    t.set_job_id(job_id);
    t.set_shard_id(i);
    t.mutable_references()->set_sha256(absl::StrCat("refs-", i));
    t.mutable_outputs()->set_sha256(absl::StrCat("outs-", i));
    tasks.push_back(std::move(t));
  }
  return tasks;
}

class LeaseBrokerTest : public ::testing::Test {
 protected:
  LeaseBrokerTest()
      : metrics_(kTtl),
        broker_({.scheduler = {.lease_ttl = kTtl, .max_attempts = 2},
                 .max_lease_wait = absl::Minutes(1)},
                &clock_, &metrics_, [this](const emar::v1::ShardTask& t, absl::Time) {
                  leased_.push_back(t.lease_id());
                }) {}

  // The answer of one LeaseAsync, or "pending" while there is none.
  struct Answer {
    bool answered = false;
    std::optional<emar::v1::ShardTask> task;
  };
  LeaseBroker::LeaseCallback Into(Answer* a) {
    return [a](std::optional<emar::v1::ShardTask> t) {
      a->answered = true;
      a->task = std::move(t);
    };
  }
  emar::v1::CompleteRequest Req(const emar::v1::ShardTask& t) {
    emar::v1::CompleteRequest req;
    req.set_job_id(t.job_id());
    req.set_shard_id(t.shard_id());
    req.set_lease_id(t.lease_id());
    return req;
  }

  FakeClock clock_;
  CoordinatorMetrics metrics_;
  std::vector<std::string> leased_;  // lease ids the hook saw, in order
  LeaseBroker broker_;
};

TEST_F(LeaseBrokerTest, WaiterGetsAShardWhenOneArrives) {
  Answer a;
  broker_.LeaseAsync("w1", absl::Seconds(10), Into(&a));
  EXPECT_FALSE(a.answered);
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  ASSERT_TRUE(a.answered);
  ASSERT_TRUE(a.task.has_value());
  EXPECT_EQ(a.task->job_id(), "j1");
  // The hook ran for that lease before the answer was delivered.
  ASSERT_EQ(leased_.size(), 1u);
  EXPECT_EQ(leased_[0], a.task->lease_id());
  EXPECT_EQ(broker_.lease_count(), 1u);
  EXPECT_EQ(broker_.pending_count(), 0u);
}

TEST_F(LeaseBrokerTest, WaitersAreServedInArrivalOrder) {
  Answer first, second;
  broker_.LeaseAsync("w1", absl::Seconds(10), Into(&first));
  broker_.LeaseAsync("w2", absl::Seconds(10), Into(&second));
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  EXPECT_TRUE(first.answered);
  EXPECT_FALSE(second.answered);
}

TEST_F(LeaseBrokerTest, TickAnswersExpiredWaitsWithNothing) {
  Answer a;
  broker_.LeaseAsync("w1", absl::Seconds(5), Into(&a));
  broker_.Tick();
  EXPECT_FALSE(a.answered);
  clock_.Advance(absl::Seconds(5));
  broker_.Tick();
  ASSERT_TRUE(a.answered);
  EXPECT_FALSE(a.task.has_value());
}

TEST_F(LeaseBrokerTest, CancelledWaitIsNeverAnswered) {
  Answer a;
  const uint64_t h = broker_.LeaseAsync("w1", absl::Seconds(5), Into(&a));
  EXPECT_TRUE(broker_.CancelLeaseWait(h));
  EXPECT_FALSE(broker_.CancelLeaseWait(h));
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  EXPECT_FALSE(a.answered);
}

TEST_F(LeaseBrokerTest, ResultsOfCurrentAndStaleLeases) {
  broker_.AddJob("j1", Tasks("j1", 2), 2, 0);
  Answer a, b;
  broker_.LeaseAsync("w1", absl::ZeroDuration(), Into(&a));
  broker_.LeaseAsync("w2", absl::ZeroDuration(), Into(&b));
  ASSERT_TRUE(a.task && b.task);
  ASSERT_OK_AND_ASSIGN(bool stale, broker_.IsStale(Req(*a.task)));
  EXPECT_FALSE(stale);
  LeaseBroker::AcceptOutcome first = broker_.Accept("j1", a.task->shard_id());
  EXPECT_EQ(first.verdict, CompleteVerdict::kAccepted);
  EXPECT_EQ(first.done_shards, 1);
  EXPECT_FALSE(first.job_complete);
  ASSERT_OK_AND_ASSIGN(stale, broker_.IsStale(Req(*a.task)));  // its shard is done
  EXPECT_TRUE(stale);
  LeaseBroker::AcceptOutcome last = broker_.Accept("j1", b.task->shard_id());
  EXPECT_TRUE(last.job_complete);
  // A lease the broker never issued is refused.
  emar::v1::CompleteRequest forged = Req(*b.task);
  forged.set_lease_id("forged");
  EXPECT_THAT(broker_.IsStale(forged), StatusIs(absl::StatusCode::kFailedPrecondition));
  forged.set_job_id("nope");
  EXPECT_THAT(broker_.IsStale(forged), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LeaseBrokerTest, FailureRequeuesThenFailsTheJob) {
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  Answer a;
  broker_.LeaseAsync("w1", absl::ZeroDuration(), Into(&a));
  ASSERT_TRUE(a.task);
  emar::v1::CompleteRequest req = Req(*a.task);
  req.mutable_failure()->set_message("boom");
  ASSERT_OK_AND_ASSIGN(LeaseBroker::FailOutcome once, broker_.Fail(req));
  ASSERT_TRUE(once.event.has_value());
  EXPECT_FALSE(once.event->job_failed);
  EXPECT_EQ(once.event->attempts, 1);
  // Requeued and dispatched to the next waiter.
  Answer again;
  broker_.LeaseAsync("w2", absl::ZeroDuration(), Into(&again));
  ASSERT_TRUE(again.task);
  // The first lease's late failure is a duplicate.
  ASSERT_OK_AND_ASSIGN(LeaseBroker::FailOutcome late, broker_.Fail(req));
  EXPECT_TRUE(late.duplicate);
  emar::v1::CompleteRequest second = Req(*again.task);
  second.mutable_failure()->set_message("boom again");
  ASSERT_OK_AND_ASSIGN(LeaseBroker::FailOutcome twice, broker_.Fail(second));
  ASSERT_TRUE(twice.event.has_value());
  EXPECT_TRUE(twice.event->job_failed);  // max_attempts = 2
}

TEST_F(LeaseBrokerTest, TickExpiresLeasesAndRemovesJobsOutOfAttempts) {
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  Answer a;
  broker_.LeaseAsync("w1", absl::ZeroDuration(), Into(&a));
  ASSERT_TRUE(a.task);
  ASSERT_TRUE(broker_.LeasedTask(a.task->lease_id()).has_value());
  clock_.Advance(kTtl + absl::Seconds(1));
  EXPECT_FALSE(broker_.LeasedTask(a.task->lease_id()).has_value());
  std::vector<SchedulerEvent> first = broker_.Tick();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].job_failed);
  Answer b;
  broker_.LeaseAsync("w2", absl::ZeroDuration(), Into(&b));
  ASSERT_TRUE(b.task);
  clock_.Advance(kTtl + absl::Seconds(1));
  std::vector<SchedulerEvent> second = broker_.Tick();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].job_failed);
  EXPECT_EQ(broker_.pending_count(), 0u);  // out of the scheduler: nothing left to lease
}

TEST_F(LeaseBrokerTest, HeartbeatKeepsACurrentLeaseAndRefusesUnknownOnes) {
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  Answer a;
  broker_.LeaseAsync("w1", absl::ZeroDuration(), Into(&a));
  ASSERT_TRUE(a.task);
  emar::v1::HeartbeatRequest hb;
  hb.set_lease_id(a.task->lease_id());
  ASSERT_OK_AND_ASSIGN(emar::v1::HeartbeatResponse resp, broker_.Heartbeat(hb));
  EXPECT_TRUE(resp.keep_going());
  EXPECT_EQ(resp.lease_ttl_ms(), 30000);
  hb.set_lease_id("nope");
  EXPECT_THAT(broker_.Heartbeat(hb), StatusIs(absl::StatusCode::kNotFound));
  hb.clear_lease_id();
  EXPECT_THAT(broker_.Heartbeat(hb), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LeaseBrokerTest, TryLeaseLeasesAPendingShardAtOnceOrNothingWithoutWaiting) {
  // Nothing pending: nothing, and no waiter is left behind to take a later shard.
  EXPECT_FALSE(broker_.TryLease("w1").has_value());
  broker_.AddJob("j1", Tasks("j1", 2), 2, 0);
  EXPECT_EQ(broker_.pending_count(), 2u);
  std::optional<emar::v1::ShardTask> t = broker_.TryLease("w1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->job_id(), "j1");
  // The leased hook ran before TryLease returned, as for a long-poll's answer.
  ASSERT_EQ(leased_.size(), 1u);
  EXPECT_EQ(leased_[0], t->lease_id());
  EXPECT_EQ(broker_.lease_count(), 1u);
  ASSERT_OK_AND_ASSIGN(bool stale, broker_.IsStale(Req(*t)));
  EXPECT_FALSE(stale);
}

TEST_F(LeaseBrokerTest, TryLeaseLeavesShardsToParkedLongPollsFirst) {
  Answer parked;
  broker_.LeaseAsync("w1", absl::Seconds(10), Into(&parked));
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  ASSERT_TRUE(parked.task.has_value());
  EXPECT_FALSE(broker_.TryLease("w2").has_value());
  // After Shutdown nothing is leased.
  broker_.AddJob("j2", Tasks("j2", 1), 1, 0);
  broker_.Shutdown();
  EXPECT_FALSE(broker_.TryLease("w2").has_value());
}

// Two references files: file 0 of one shard, file 1 of five; loading a file (400 rows) costs
// four shards (100 rows each).
std::vector<emar::v1::ShardTask> TwoFiles(const std::string& job_id) {
  std::vector<emar::v1::ShardTask> tasks = Tasks(job_id, 6);
  for (emar::v1::ShardTask& t : tasks) {
    t.mutable_references()->set_sha256(t.shard_id() == 0 ? "refs-a" : "refs-b");
    t.set_reference_rows(400);
    t.set_rows(100);
  }
  return tasks;
}

// A worker done with its own file is parked rather than sent to parse another file's last
// shards, which its reader finishes sooner: the reader's Complete with lease_next continues
// before the parked worker is asked, and a waiter behind the parked one is still served.
TEST_F(LeaseBrokerTest, AParkedWorkerLeavesAFilesLastShardsToItsReader) {
  broker_.AddJob("j1", TwoFiles("j1"), 6, 0);
  std::optional<emar::v1::ShardTask> a = broker_.TryLease("w1/0");
  std::optional<emar::v1::ShardTask> b = broker_.TryLease("w2/0");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->references().sha256(), "refs-a");
  EXPECT_EQ(b->references().sha256(), "refs-b");
  ASSERT_EQ(broker_.Accept("j1", b->shard_id()).verdict, CompleteVerdict::kAccepted);
  b = broker_.TryLease("w2/0");  // 3 of refs-b left after this one
  ASSERT_TRUE(b);
  ASSERT_EQ(broker_.Accept("j1", a->shard_id()).verdict, CompleteVerdict::kAccepted);
  Answer parked;
  broker_.LeaseAsync("w1/0", absl::Seconds(10), Into(&parked));
  EXPECT_FALSE(parked.answered);
  // The reader completes and continues; the parked worker still waits.
  ASSERT_EQ(broker_.Accept("j1", b->shard_id()).verdict, CompleteVerdict::kAccepted);
  std::optional<emar::v1::ShardTask> next = broker_.TryLease("w2/0");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->references().sha256(), "refs-b");
  EXPECT_FALSE(parked.answered);
  // A new worker, holding no table, is served past the parked one.
  Answer fresh;
  broker_.LeaseAsync("w3/0", absl::Seconds(10), Into(&fresh));
  ASSERT_TRUE(fresh.answered);
  ASSERT_TRUE(fresh.task.has_value());
  EXPECT_FALSE(parked.answered);
}

TEST_F(LeaseBrokerTest, ShutdownAnswersWaitersAndLaterPollsWithNothing) {
  Answer a, b;
  broker_.LeaseAsync("w1", absl::Seconds(10), Into(&a));
  broker_.Shutdown();
  ASSERT_TRUE(a.answered);
  EXPECT_FALSE(a.task.has_value());
  broker_.AddJob("j1", Tasks("j1", 1), 1, 0);
  broker_.LeaseAsync("w2", absl::Seconds(10), Into(&b));
  ASSERT_TRUE(b.answered);
  EXPECT_FALSE(b.task.has_value());
}

}  // namespace
}  // namespace emar
