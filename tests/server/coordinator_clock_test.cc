// Coordinator lease expiry, heartbeats, retries and long-poll timeouts under a fake clock.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/status_matchers.h"
#include "server/coordinator.h"
#include "tests/server/fake_clock.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// The answer to one LeaseAsync: set once, from whichever thread runs the callback.
class LeaseAnswer {
 public:
  Coordinator::LeaseCallback Callback() {
    return [this](std::optional<emar::v1::ShardTask> task) {
      {
        absl::MutexLock lock(&mu_);
        ++calls_;
        task_ = std::move(task);
      }
      done_.Notify();
    };
  }
  bool answered() const { return done_.HasBeenNotified(); }
  // Waits (as a failure guard only: answers come synchronously here) and returns the answer.
  std::optional<emar::v1::ShardTask> Get() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10))) << "no lease answer";
    absl::MutexLock lock(&mu_);
    return task_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Notification done_;
  absl::Mutex mu_;
  std::optional<emar::v1::ShardTask> task_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

constexpr absl::Duration kTtl = absl::Seconds(30);

enum class Beat { kKeepGoing, kStop, kError };

class CoordinatorClockTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(int max_attempts = 3, absl::Duration max_lease_wait = absl::Minutes(10)) {
    coordinator_.reset();
    CoordinatorOptions o;
    o.data_dir = dir_.path();
    o.tick = absl::Hours(1);  // the ticker never fires: the test calls Tick()
    o.max_lease_wait = max_lease_wait;
    o.scheduler.lease_ttl = kTtl;
    o.scheduler.max_attempts = max_attempts;
    o.durable_blobs = false;
    auto c = Coordinator::Create(o, &clock_);
    ASSERT_OK(c.status());
    coordinator_ = std::move(*c);
  }

  // A two-row job scored with accuracy on both datasets, base and one candidate: 4 shards (one
  // per model and dataset, the rows fitting one shard).
  emar::v1::Job CreateJob() {
    const std::string refs =
        "{\"id\": 1, \"reference\": \"x\"}\n{\"id\": 2, \"reference\": \"y\"}\n";
    const std::string outs =
        "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": \"x\"}\n";
    emar::v1::CreateJobRequest req;
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name("clock");
    for (emar::v1::DatasetSpec* d : {s.mutable_target(), s.mutable_benchmark()}) {
      d->set_name(d == s.mutable_target() ? "t" : "b");
      d->set_references("refs.jsonl");
      d->set_metric("accuracy");
    }
    s.mutable_base()->set_name("base");
    s.mutable_base()->set_target_outputs("out.jsonl");
    s.mutable_base()->set_benchmark_outputs("out.jsonl");
    *s.add_candidates() = s.base();
    s.mutable_candidates(0)->set_name("cand");
    auto refs_sha = coordinator_->blobs().Put(refs);
    auto outs_sha = coordinator_->blobs().Put(outs);
    EXPECT_OK(refs_sha.status());
    EXPECT_OK(outs_sha.status());
    (*req.mutable_input_digests())["refs.jsonl"] = refs_sha.value_or("");
    (*req.mutable_input_digests())["out.jsonl"] = outs_sha.value_or("");
    auto job = coordinator_->CreateJob(req);
    EXPECT_OK(job.status());
    EXPECT_EQ(job.value_or(emar::v1::Job()).progress().shards_total(), 4);
    return job.value_or(emar::v1::Job());
  }

  // Leases whatever is available now (a zero wait answers at once when a shard is pending).
  std::optional<emar::v1::ShardTask> LeaseNow(const std::string& worker) {
    LeaseAnswer a;
    coordinator_->LeaseAsync(worker, absl::ZeroDuration(), a.Callback());
    if (!a.answered()) {
      // Nothing pending: the zero-wait poll is answered empty by the next tick.
      coordinator_->Tick();
    }
    return a.Get();
  }

  // What a worker makes of a heartbeat on `t`'s lease (worker/worker_loop.cc): a withdrawn lease
  // may be answered keep_going=false or NOT_FOUND / FAILED_PRECONDITION; each stops the worker.
  Beat Heartbeat(const emar::v1::ShardTask& t) {
    emar::v1::HeartbeatRequest hb;
    hb.set_lease_id(t.lease_id());
    hb.set_worker_id("w");
    absl::StatusOr<emar::v1::HeartbeatResponse> r = coordinator_->Heartbeat(hb);
    if (r.ok()) return r->keep_going() ? Beat::kKeepGoing : Beat::kStop;
    if (absl::IsNotFound(r.status()) || absl::IsFailedPrecondition(r.status())) return Beat::kStop;
    ADD_FAILURE() << "heartbeat: " << r.status();
    return Beat::kError;
  }

  emar::v1::JobState StateOf(const std::string& job_id) {
    auto job = coordinator_->GetJob(job_id);
    EXPECT_OK(job.status());
    return job.ok() ? job->state() : emar::v1::JOB_STATE_UNSPECIFIED;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(CoordinatorClockTest, ExpiredLeaseIsHandedOutAgainAndHeartbeatsExtendLeases) {
  const emar::v1::Job job = CreateJob();
  std::vector<emar::v1::ShardTask> leased;
  for (int i = 0; i < 4; ++i) {
    std::optional<emar::v1::ShardTask> t = LeaseNow(absl::StrCat("w", i));
    ASSERT_TRUE(t) << "lease " << i;
    EXPECT_EQ(t->job_id(), job.job_id());
    EXPECT_EQ(t->attempt(), 1);
    EXPECT_EQ(t->lease_ttl_ms(), 30000);
    leased.push_back(*t);
  }
  EXPECT_FALSE(LeaseNow("w-extra")) << "all four shards are leased";

  // Shards 1..3 heartbeat 20 s in (their leases now end at 50 s); shard 0 stays silent.
  clock_.Advance(absl::Seconds(20));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
  LeaseAnswer next;
  coordinator_->LeaseAsync("w-next", absl::Minutes(5), next.Callback());
  clock_.Advance(absl::Seconds(9));  // 29 s: shard 0's lease still holds
  coordinator_->Tick();
  EXPECT_FALSE(next.answered());

  clock_.Advance(absl::Seconds(1));  // 30 s = the TTL since shard 0 was leased
  coordinator_->Tick();
  ASSERT_TRUE(next.answered());
  std::optional<emar::v1::ShardTask> again = next.Get();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->shard_id(), leased[0].shard_id());
  EXPECT_EQ(again->attempt(), 2);
  EXPECT_NE(again->lease_id(), leased[0].lease_id());
  EXPECT_EQ(Heartbeat(leased[0]), Beat::kStop) << "an expired lease must not be revived";
  EXPECT_EQ(Heartbeat(*again), Beat::kKeepGoing);
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_RUNNING);

  // 49 s: 29 s since the heartbeats, so shards 1..3 are still leased.
  LeaseAnswer later;
  coordinator_->LeaseAsync("w-later", absl::Minutes(5), later.Callback());
  clock_.Advance(absl::Seconds(19));
  coordinator_->Tick();
  EXPECT_FALSE(later.answered());
  // 50 s: the heartbeats' leases run out too and one of those shards goes to the waiter.
  clock_.Advance(absl::Seconds(1));
  coordinator_->Tick();
  ASSERT_TRUE(later.answered());
  std::optional<emar::v1::ShardTask> expired = later.Get();
  ASSERT_TRUE(expired);
  EXPECT_NE(expired->shard_id(), leased[0].shard_id());
  EXPECT_EQ(expired->attempt(), 2);
  EXPECT_EQ(later.calls(), 1);
}

TEST_F(CoordinatorClockTest, JobFailsWhenAShardsLeaseExpiresMaxAttemptsTimes) {
  const emar::v1::Job job = CreateJob();
  std::vector<emar::v1::ShardTask> leased;
  for (int i = 0; i < 4; ++i) {
    std::optional<emar::v1::ShardTask> t = LeaseNow("w");
    ASSERT_TRUE(t);
    leased.push_back(*t);
  }
  // Shard 0's holder dies every time; the others keep heartbeating every 20 s.
  emar::v1::ShardTask dying = leased[0];
  for (int attempt = 1; attempt <= 3; ++attempt) {
    SCOPED_TRACE(absl::StrCat("attempt ", attempt));
    EXPECT_EQ(dying.shard_id(), leased[0].shard_id());
    EXPECT_EQ(dying.attempt(), attempt);
    clock_.Advance(absl::Seconds(20));
    for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
    clock_.Advance(absl::Seconds(10));
    coordinator_->Tick();
    if (attempt < 3) {
      EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_RUNNING);
      std::optional<emar::v1::ShardTask> t = LeaseNow("w");
      ASSERT_TRUE(t) << "the expired shard must be pending again";
      dying = *t;
    }
  }
  ASSERT_OK_AND_ASSIGN(emar::v1::Job failed, coordinator_->GetJob(job.job_id()));
  EXPECT_EQ(failed.state(), emar::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr(absl::StrCat("shard ", leased[0].shard_id(), " (",
                                                     leased[0].model(), ", ")));
  EXPECT_THAT(failed.error(), HasSubstr("failed 3 times"));
  EXPECT_THAT(failed.error(), HasSubstr("lease expired: worker 'w' stopped heartbeating"));
  // The failed job's other leases are withdrawn and none of its shards is handed out again.
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kStop);
  EXPECT_FALSE(LeaseNow("w"));
  EXPECT_THAT(coordinator_->GetReport(job.job_id()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("FAILED")));
}

TEST_F(CoordinatorClockTest, MaxAttemptsCountsExpiriesBeforeTheJobFails) {
  Open(/*max_attempts=*/2);
  const emar::v1::Job job = CreateJob();
  std::vector<emar::v1::ShardTask> leased;
  for (int i = 0; i < 4; ++i) leased.push_back(LeaseNow("w").value_or(emar::v1::ShardTask()));
  clock_.Advance(absl::Seconds(20));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
  clock_.Advance(absl::Seconds(10));
  coordinator_->Tick();  // first expiry of shard 0: one attempt left
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_RUNNING);
  std::optional<emar::v1::ShardTask> retry = LeaseNow("w");
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->attempt(), 2);
  clock_.Advance(absl::Seconds(20));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
  clock_.Advance(absl::Seconds(10));
  coordinator_->Tick();  // second expiry: max_attempts = 2 reached
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_FAILED);
}

// A tick that fails a job must not hand a waiting worker one of its shards first.
TEST_F(CoordinatorClockTest, TickNeverDispatchesAShardOfAJobItFails) {
  Open(/*max_attempts=*/2);
  const emar::v1::Job job = CreateJob();
  std::vector<emar::v1::ShardTask> leased;
  for (int i = 0; i < 4; ++i) leased.push_back(LeaseNow("w").value_or(emar::v1::ShardTask()));
  clock_.Advance(absl::Seconds(20));
  for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
  clock_.Advance(absl::Seconds(10));
  coordinator_->Tick();  // t=30: shard 0 expires once and is requeued with one attempt left
  std::optional<emar::v1::ShardTask> retry = LeaseNow("w");
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->shard_id(), leased[0].shard_id());
  EXPECT_EQ(retry->attempt(), 2);
  clock_.Advance(absl::Seconds(20));  // t=50: shard 1's holder goes silent too
  for (int i = 2; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
  LeaseAnswer waiting;
  coordinator_->LeaseAsync("w2", absl::Minutes(5), waiting.Callback());
  EXPECT_FALSE(waiting.answered());
  clock_.Advance(absl::Seconds(10));
  // t=60: shard 0 runs out of attempts (the job fails) and shard 1 expires in the same tick.
  coordinator_->Tick();
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_FAILED);
  EXPECT_FALSE(waiting.answered()) << "got a shard of the job that just failed";
  coordinator_->Shutdown();  // answers the poll (empty) while `waiting` is alive
  EXPECT_FALSE(waiting.Get());
}

TEST_F(CoordinatorClockTest, ExpiredAttemptsSurviveARestart) {
  const emar::v1::Job job = CreateJob();
  std::vector<emar::v1::ShardTask> leased;
  for (int i = 0; i < 4; ++i) leased.push_back(LeaseNow("w").value_or(emar::v1::ShardTask()));
  // Shard 0's lease expires twice; the others keep heartbeating.
  for (int expiry = 1; expiry <= 2; ++expiry) {
    clock_.Advance(absl::Seconds(20));
    for (int i = 1; i < 4; ++i) EXPECT_EQ(Heartbeat(leased[i]), Beat::kKeepGoing);
    clock_.Advance(absl::Seconds(10));
    coordinator_->Tick();
    if (expiry == 1) ASSERT_TRUE(LeaseNow("w"));
  }
  // Restart on the same data dir: shard 0 has one attempt left (max_attempts = 3), not three.
  Open();
  std::optional<int> shard0_attempt;
  for (int i = 0; i < 4; ++i) {
    std::optional<emar::v1::ShardTask> t = LeaseNow("w");
    ASSERT_TRUE(t);
    if (t->shard_id() == leased[0].shard_id()) shard0_attempt = t->attempt();
  }
  ASSERT_TRUE(shard0_attempt);
  EXPECT_EQ(*shard0_attempt, 3);
  clock_.Advance(kTtl);
  coordinator_->Tick();  // every lease expires; shard 0's was its last attempt
  ASSERT_OK_AND_ASSIGN(emar::v1::Job failed, coordinator_->GetJob(job.job_id()));
  EXPECT_EQ(failed.state(), emar::v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("failed 3 times"));
}

TEST_F(CoordinatorClockTest, LongPollIsAnsweredEmptyOnlyAfterItsWaitAndATick) {
  LeaseAnswer a;
  coordinator_->LeaseAsync("w", absl::Seconds(10), a.Callback());
  coordinator_->Tick();
  EXPECT_FALSE(a.answered());
  clock_.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  coordinator_->Tick();
  EXPECT_FALSE(a.answered());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(a.answered()) << "time passing alone answers nothing; the tick does";
  coordinator_->Tick();
  ASSERT_TRUE(a.answered());
  EXPECT_FALSE(a.Get());
  coordinator_->Tick();
  EXPECT_EQ(a.calls(), 1);
}

TEST_F(CoordinatorClockTest, LongPollWaitIsCappedAtMaxLeaseWait) {
  Open(/*max_attempts=*/3, /*max_lease_wait=*/absl::Seconds(5));
  LeaseAnswer capped, negative;
  coordinator_->LeaseAsync("w", absl::Hours(1), capped.Callback());
  coordinator_->LeaseAsync("w", -absl::Seconds(3), negative.Callback());
  coordinator_->Tick();
  EXPECT_FALSE(capped.answered());
  ASSERT_TRUE(negative.answered()) << "a negative wait is no wait";
  EXPECT_FALSE(negative.Get());
  clock_.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  coordinator_->Tick();
  EXPECT_FALSE(capped.answered());
  clock_.Advance(absl::Milliseconds(1));
  coordinator_->Tick();
  ASSERT_TRUE(capped.answered());
  EXPECT_FALSE(capped.Get());
}

TEST_F(CoordinatorClockTest, CancelledLongPollIsNeverAnswered) {
  LeaseAnswer cancelled, kept;
  const uint64_t h = coordinator_->LeaseAsync("w1", absl::Seconds(10), cancelled.Callback());
  const uint64_t kept_handle = coordinator_->LeaseAsync("w2", absl::Seconds(10), kept.Callback());
  EXPECT_TRUE(coordinator_->CancelLeaseWait(h));
  EXPECT_FALSE(coordinator_->CancelLeaseWait(h)) << "already dropped";
  // The first shard would have gone to the cancelled (older) poll; it goes to the other one.
  const emar::v1::Job job = CreateJob();
  ASSERT_TRUE(kept.answered());
  std::optional<emar::v1::ShardTask> t = kept.Get();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->job_id(), job.job_id());
  clock_.Advance(absl::Seconds(11));
  coordinator_->Tick();
  coordinator_->Shutdown();
  EXPECT_FALSE(cancelled.answered());
  EXPECT_EQ(cancelled.calls(), 0);
  // Once answered, a poll cannot be cancelled.
  EXPECT_FALSE(coordinator_->CancelLeaseWait(kept_handle));
}

TEST_F(CoordinatorClockTest, WaitingLongPollGetsAShardAsSoonAsAJobIsCreated) {
  LeaseAnswer a;
  coordinator_->LeaseAsync("w", absl::Seconds(10), a.Callback());
  coordinator_->Tick();
  EXPECT_FALSE(a.answered());
  const emar::v1::Job job = CreateJob();  // no tick, no time passing
  ASSERT_TRUE(a.answered());
  std::optional<emar::v1::ShardTask> t = a.Get();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->job_id(), job.job_id());
  EXPECT_EQ(t->attempt(), 1);
  EXPECT_FALSE(t->lease_id().empty());
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(job.created_unix_ms(), absl::ToUnixMillis(clock_.Now())) << "stamped by the clock";
}

TEST_F(CoordinatorClockTest, ShutdownAnswersPendingLongPollsWithNothing) {
  LeaseAnswer a, b;
  coordinator_->LeaseAsync("w1", absl::Seconds(10), a.Callback());
  coordinator_->LeaseAsync("w2", absl::Minutes(5), b.Callback());
  EXPECT_FALSE(a.answered());
  EXPECT_FALSE(b.answered());
  coordinator_->Shutdown();
  ASSERT_TRUE(a.answered());
  ASSERT_TRUE(b.answered());
  EXPECT_FALSE(a.Get());
  EXPECT_FALSE(b.Get());
  // After shutdown a new poll is answered at once, with nothing, even with shards pending.
  const emar::v1::Job job = CreateJob();
  EXPECT_EQ(StateOf(job.job_id()), emar::v1::JOB_STATE_QUEUED);
  LeaseAnswer late;
  coordinator_->LeaseAsync("w3", absl::Seconds(10), late.Callback());
  ASSERT_TRUE(late.answered());
  EXPECT_FALSE(late.Get());
  coordinator_->Shutdown();  // idempotent: nobody is answered twice
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(b.calls(), 1);
}

}  // namespace
}  // namespace emar
