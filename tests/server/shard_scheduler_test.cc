#include "server/shard_scheduler.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

std::vector<emar::v1::ShardTask> Tasks(const std::string& job, int n) {
  std::vector<emar::v1::ShardTask> out;
  for (int i = 0; i < n; ++i) {
    emar::v1::ShardTask t;
    t.set_job_id(job);
    t.set_shard_id(i);
    t.set_model("base");
    t.mutable_outputs()->set_display_name("out/base.jsonl");
    out.push_back(t);
  }
  return out;
}

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(ShardSchedulerTest, LeasesInOrderAndCompletesJob) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 2), 2, 0);
  auto a = s.Lease("w1", kT0);
  auto b = s.Lease("w2", kT0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->shard_id(), 0);
  EXPECT_EQ(b->shard_id(), 1);
  EXPECT_EQ(a->attempt(), 1);
  EXPECT_NE(a->lease_id(), b->lease_id());
  EXPECT_FALSE(s.Lease("w3", kT0));
  EXPECT_EQ(s.Complete("j", 0), CompleteVerdict::kAccepted);
  EXPECT_FALSE(s.IsJobComplete("j"));
  EXPECT_EQ(s.Complete("j", 1), CompleteVerdict::kAccepted);
  EXPECT_TRUE(s.IsJobComplete("j"));
  EXPECT_EQ(s.lease_count(), 0u);
}

TEST(ShardSchedulerTest, DuplicateCompletionIsNotCountedTwice) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 2), 2, 0);
  auto a = s.Lease("w1", kT0);
  EXPECT_EQ(s.Complete("j", a->shard_id()), CompleteVerdict::kAccepted);
  EXPECT_EQ(s.Complete("j", a->shard_id()), CompleteVerdict::kDuplicate);
  EXPECT_EQ(s.done_shards("j"), 1);
  EXPECT_EQ(s.Complete("nope", 0), CompleteVerdict::kUnknown);
}

TEST(ShardSchedulerTest, ExpiredLeaseIsRequeuedAndItsLateCallsAreStale) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 1), 1, 0);
  auto first = s.Lease("dead-worker", kT0);
  ASSERT_TRUE(first);
  EXPECT_TRUE(s.ExpireLeases(kT0 + absl::Seconds(29)).empty());
  EXPECT_FALSE(s.Lease("w2", kT0 + absl::Seconds(29)));  // still leased
  std::vector<SchedulerEvent> expired = s.ExpireLeases(kT0 + absl::Seconds(31));
  ASSERT_EQ(expired.size(), 1u);  // one attempt used, to persist; the job goes on
  EXPECT_FALSE(expired[0].job_failed);
  EXPECT_EQ(expired[0].shard_id, 0);
  EXPECT_EQ(expired[0].attempts, 1);
  EXPECT_EQ(s.Heartbeat(first->lease_id(), kT0 + absl::Seconds(31)), LeaseCheck::kStale);
  auto second = s.Lease("w2", kT0 + absl::Seconds(31));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempt(), 2);
  // The first worker was only slow: its lease is stale, the second one's is the shard's.
  EXPECT_EQ(s.CheckLease("j", 0, first->lease_id()), LeaseCheck::kStale);
  EXPECT_EQ(s.CheckLease("j", 0, second->lease_id()), LeaseCheck::kCurrent);
  EXPECT_EQ(s.Complete("j", 0), CompleteVerdict::kAccepted);
  EXPECT_EQ(s.Complete("j", 0), CompleteVerdict::kDuplicate);
  EXPECT_EQ(s.Heartbeat(second->lease_id(), kT0 + absl::Seconds(32)), LeaseCheck::kStale);
  EXPECT_EQ(s.CheckLease("j", 0, second->lease_id()), LeaseCheck::kStale);
}

TEST(ShardSchedulerTest, LateHeartbeatDoesNotReviveAnExpiredLease) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 1), 1, 0);
  auto a = s.Lease("w", kT0);
  ASSERT_TRUE(a);
  // Past the TTL, before any ExpireLeases: the beat is refused and does not extend the lease.
  EXPECT_EQ(s.Heartbeat(a->lease_id(), kT0 + absl::Seconds(45)), LeaseCheck::kStale);
  ASSERT_EQ(s.ExpireLeases(kT0 + absl::Seconds(46)).size(), 1u);
  auto b = s.Lease("w2", kT0 + absl::Seconds(46));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->attempt(), 2);
}

TEST(ShardSchedulerTest, OnlyIssuedLeasesOfThatShardAreRecognised) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 2), 2, 0);
  auto a = s.Lease("w1", kT0);
  auto b = s.Lease("w2", kT0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(s.CheckLease("j", 0, a->lease_id()), LeaseCheck::kCurrent);
  EXPECT_EQ(s.CheckLease("j", 1, a->lease_id()), LeaseCheck::kUnknownLease);  // another shard's
  EXPECT_EQ(s.CheckLease("j", 0, ""), LeaseCheck::kUnknownLease);
  EXPECT_EQ(s.CheckLease("j", 0, "lease-1-j-0"), LeaseCheck::kUnknownLease);  // made up
  EXPECT_EQ(s.CheckLease("j", 7, a->lease_id()), LeaseCheck::kUnknownShard);
  EXPECT_EQ(s.CheckLease("nope", 0, a->lease_id()), LeaseCheck::kUnknownJob);
  EXPECT_EQ(s.Heartbeat("lease-2-0000000000000000", kT0), LeaseCheck::kUnknownLease);
  EXPECT_EQ(s.Heartbeat(b->lease_id(), kT0), LeaseCheck::kCurrent);
  // Lease ids of two schedulers (two coordinator runs) differ: the random part.
  ShardScheduler other({absl::Seconds(30), 3});
  other.AddJob("j", Tasks("j", 2), 2, 0);
  auto c = other.Lease("w1", kT0);
  ASSERT_TRUE(c);
  EXPECT_NE(c->lease_id(), a->lease_id());
  EXPECT_EQ(other.CheckLease("j", 0, a->lease_id()), LeaseCheck::kUnknownLease);
}

TEST(ShardSchedulerTest, HeartbeatKeepsLeaseAlive) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", Tasks("j", 1), 1, 0);
  auto a = s.Lease("w", kT0);
  for (int i = 1; i <= 10; ++i) {
    ASSERT_EQ(s.Heartbeat(a->lease_id(), kT0 + absl::Seconds(20 * i)), LeaseCheck::kCurrent);
    EXPECT_TRUE(s.ExpireLeases(kT0 + absl::Seconds(20 * i + 15)).empty());
  }
  EXPECT_EQ(s.lease_count(), 1u);
}

TEST(ShardSchedulerTest, ShardFailingMaxAttemptsFailsJobWithWorkerError) {
  ShardScheduler s({absl::Seconds(30), 2});
  s.AddJob("j", Tasks("j", 1), 1, 0);
  auto a = s.Lease("w", kT0);
  auto first = s.Fail("j", 0, "disk full", false);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->job_failed);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(s.CheckLease("j", 0, a->lease_id()), LeaseCheck::kStale);
  auto b = s.Lease("w", kT0);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->attempt(), 2);
  auto ev = s.Fail("j", 0, "disk full again", false);
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->job_failed);
  EXPECT_THAT(ev->message, HasSubstr("failed 2 times"));
  EXPECT_THAT(ev->message, HasSubstr("disk full again"));
}

TEST(ShardSchedulerTest, ExpiryCountsAsAttempt) {
  ShardScheduler s({absl::Seconds(10), 2});
  s.AddJob("j", Tasks("j", 1), 1, 0);
  s.Lease("w1", kT0);
  auto first = s.ExpireLeases(kT0 + absl::Seconds(11));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].job_failed);
  s.Lease("w2", kT0 + absl::Seconds(11));
  auto ev = s.ExpireLeases(kT0 + absl::Seconds(22));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].job_failed);
  EXPECT_EQ(ev[0].attempts, 2);
  EXPECT_THAT(ev[0].message, HasSubstr("stopped heartbeating"));
}

TEST(ShardSchedulerTest, InputErrorFailsJobAtOnce) {
  ShardScheduler s({absl::Seconds(30), 5});
  s.AddJob("j", Tasks("j", 3), 3, 0);
  s.Lease("w", kT0);
  auto ev = s.Fail("j", 0, "out/base.jsonl:3: malformed JSON", true);
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->job_failed);
  EXPECT_EQ(ev->message, "out/base.jsonl:3: malformed JSON");
}

TEST(ShardSchedulerTest, RemovedJobHandsOutNothingAndKillsLeases) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("a", Tasks("a", 2), 2, 0);
  s.AddJob("b", Tasks("b", 1), 1, 0);
  auto lease = s.Lease("w", kT0);
  ASSERT_EQ(lease->job_id(), "a");
  s.RemoveJob("a");
  EXPECT_EQ(s.Heartbeat(lease->lease_id(), kT0), LeaseCheck::kUnknownLease);
  EXPECT_EQ(s.CheckLease("a", 0, lease->lease_id()), LeaseCheck::kUnknownJob);
  auto next = s.Lease("w", kT0);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->job_id(), "b");
  EXPECT_FALSE(s.Lease("w", kT0));
  EXPECT_EQ(s.Complete("a", 0), CompleteVerdict::kUnknown);
}

TEST(ShardSchedulerTest, RecoveredJobKnowsDoneShards) {
  ShardScheduler s({absl::Seconds(30), 3});
  // After a restart: shards 0 and 2 were done; 1 is pending with one prior attempt.
  std::vector<emar::v1::ShardTask> pending = {Tasks("j", 3)[1]};
  s.AddJob("j", pending, 3, 2, {{1, 1}});
  auto t = s.Lease("w", kT0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->shard_id(), 1);
  EXPECT_EQ(t->attempt(), 2);
  EXPECT_EQ(s.Complete("j", 0), CompleteVerdict::kDuplicate);
  // A shard done before the restart waits for no result: no lease can complete it.
  EXPECT_EQ(s.CheckLease("j", 0, t->lease_id()), LeaseCheck::kUnknownShard);
  EXPECT_EQ(s.Complete("j", 1), CompleteVerdict::kAccepted);
  EXPECT_TRUE(s.IsJobComplete("j"));
}

// A job's shards in groups by references blob: `sizes[i]` shards reading blob "refs-i", ids in
// order.
std::vector<emar::v1::ShardTask> GroupedTasks(const std::string& job, std::vector<int> sizes) {
  std::vector<emar::v1::ShardTask> out;
  for (size_t g = 0; g < sizes.size(); ++g) {
    for (int i = 0; i < sizes[g]; ++i) {
      emar::v1::ShardTask t;
      t.set_job_id(job);
      t.set_shard_id(static_cast<int32_t>(out.size()));
      t.set_model("base");
      t.mutable_references()->set_sha256(absl::StrCat("refs-", g));
      out.push_back(t);
    }
  }
  return out;
}

// Each worker keeps the references it read: two workers on a job of two references files take
// one file each (the second starts on the file no lease reads), instead of both parsing both.
TEST(ShardSchedulerTest, TwoWorkersTakeOneReferencesFileEach) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", GroupedTasks("j", {3, 3}), 6, 0);
  std::vector<int32_t> w1, w2;
  for (int round = 0; round < 3; ++round) {
    auto a = s.Lease("w1", kT0);
    auto b = s.Lease("w2", kT0);
    ASSERT_TRUE(a && b);
    w1.push_back(a->shard_id());
    w2.push_back(b->shard_id());
    EXPECT_EQ(s.pending_count(), static_cast<size_t>(4 - 2 * round));
    EXPECT_EQ(s.Complete("j", a->shard_id()), CompleteVerdict::kAccepted);
    EXPECT_EQ(s.Complete("j", b->shard_id()), CompleteVerdict::kAccepted);
  }
  EXPECT_THAT(w1, ::testing::ElementsAre(0, 1, 2));
  EXPECT_THAT(w2, ::testing::ElementsAre(3, 4, 5));
  EXPECT_FALSE(s.Lease("w1", kT0));
  EXPECT_TRUE(s.IsJobComplete("j"));
}

// A worker whose file has no shards left joins another one: the oldest shard, even of a file
// others read, when no file is unread.
TEST(ShardSchedulerTest, AWorkerDoneWithItsFileJoinsTheOldestShards) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", GroupedTasks("j", {1, 4}), 5, 0);
  auto a = s.Lease("w1", kT0);
  auto b = s.Lease("w2", kT0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->shard_id(), 0);
  EXPECT_EQ(b->shard_id(), 1);
  ASSERT_EQ(s.Complete("j", 0), CompleteVerdict::kAccepted);
  auto c = s.Lease("w1", kT0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shard_id(), 2);
  auto d = s.Lease("w2", kT0);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->shard_id(), 3);
}

// GroupedTasks whose files have `reference_rows` rows and whose shards have `rows` each.
std::vector<emar::v1::ShardTask> SizedTasks(const std::string& job, std::vector<int> sizes,
                                            int64_t reference_rows, int64_t rows) {
  std::vector<emar::v1::ShardTask> out = GroupedTasks(job, std::move(sizes));
  for (emar::v1::ShardTask& t : out) {
    t.set_reference_rows(reference_rows);
    t.set_rows(rows);
  }
  return out;
}

// Loading a file of 400 rows costs as much as scoring 4 shards of 100: a worker done with its
// own file leaves another's last 4 shards (or fewer) to the one worker reading it, and joins it
// again once that worker's lease expires.
TEST(ShardSchedulerTest, AWorkerLeavesTheLastShardsOfAFileToItsReaders) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", SizedTasks("j", {1, 6}, 400, 100), 7, 0);
  auto a = s.Lease("w1/0", kT0);
  auto b = s.Lease("w2/0", kT0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->shard_id(), 0);
  EXPECT_EQ(b->shard_id(), 1);
  for (int32_t next : {2, 3}) {
    ASSERT_EQ(s.Complete("j", next - 1), CompleteVerdict::kAccepted);
    auto t = s.Lease("w2/0", kT0);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->shard_id(), next);
  }
  ASSERT_EQ(s.Complete("j", 0), CompleteVerdict::kAccepted);
  EXPECT_FALSE(s.Lease("w1/0", kT0));  // 3 pending (4, 5, 6) <= 4 x 1 reader
  EXPECT_EQ(s.pending_count(), 3u);
  // Another thread of the reader's process has the table: it joins.
  auto sibling = s.Lease("w2/1", kT0);
  ASSERT_TRUE(sibling);
  EXPECT_EQ(sibling->shard_id(), 4);
  // The readers' leases expire: the file is free, the waiting worker takes it up.
  EXPECT_EQ(s.ExpireLeases(kT0 + absl::Minutes(1)).size(), 2u);
  auto c = s.Lease("w1/0", kT0 + absl::Minutes(1));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->references().sha256(), "refs-1");
}

// With more of the file left than its readers score while a table loads, a worker joins.
TEST(ShardSchedulerTest, AWorkerJoinsAFileWithMoreLeftThanATableLoadCosts) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", SizedTasks("j", {1, 8}, 400, 100), 9, 0);
  ASSERT_TRUE(s.Lease("w1/0", kT0));
  ASSERT_TRUE(s.Lease("w2/0", kT0));
  ASSERT_EQ(s.Complete("j", 0), CompleteVerdict::kAccepted);
  auto c = s.Lease("w1/0", kT0);  // 7 pending > 4
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shard_id(), 2);
}

// One worker (or one process's threads, sharing an id) takes the shards in queue order, file by
// file, as before.
TEST(ShardSchedulerTest, OneWorkerTakesTheShardsInQueueOrder) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", GroupedTasks("j", {2, 2, 2}), 6, 0);
  for (int32_t want = 0; want < 6; ++want) {
    auto t = s.Lease("w", kT0);  // earlier leases still held
    ASSERT_TRUE(t);
    EXPECT_EQ(t->shard_id(), want);
  }
  EXPECT_EQ(s.pending_count(), 0u);
}

// pending_count counts shards waiting, not queue entries; a removed job's go with it, and a
// worker that read its files starts afresh on the next job.
TEST(ShardSchedulerTest, PendingCountsShardsAndRemovingAJobForgetsItsFiles) {
  ShardScheduler s({absl::Seconds(30), 3});
  s.AddJob("j", GroupedTasks("j", {2, 2}), 4, 0);
  s.AddJob("k", GroupedTasks("k", {2}), 2, 0);
  EXPECT_EQ(s.pending_count(), 6u);
  auto a = s.Lease("w1", kT0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->job_id(), "j");
  EXPECT_EQ(s.pending_count(), 5u);
  // Expired and requeued: waiting again, counted once.
  EXPECT_EQ(s.ExpireLeases(kT0 + absl::Minutes(1)).size(), 1u);
  EXPECT_EQ(s.pending_count(), 6u);
  s.RemoveJob("j");
  EXPECT_EQ(s.pending_count(), 2u);
  auto b = s.Lease("w1", kT0 + absl::Minutes(1));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->job_id(), "k");
  EXPECT_EQ(b->shard_id(), 0);
  EXPECT_EQ(s.pending_count(), 1u);
}

}  // namespace
}  // namespace emar
