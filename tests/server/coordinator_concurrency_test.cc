// The Coordinator driven from many threads at once with no gRPC in between: worker threads lease
// (long-polls and the combined complete-and-lease), heartbeat, read blobs, score and complete;
// client threads create jobs (sync and async), cancel one, and read jobs, lists, reports and
// metrics; watchers follow every job. Real clock, real ticker, planner and finalizer threads,
// real SQLite. Built for ThreadSanitizer (scripts/sanitize.sh tsan runs server_test), where
// Debian's gRPC, which is not instrumented, would hide the coordinator's own races behind its
// own; under the default build it checks the same outcomes: every job ends once, the same
// inputs give the same report whatever the interleaving, and the watchers see the end.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_matchers.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "eval/job/shard_scorer.h"
#include "eval/job/suite.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/coordinator.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

constexpr int kRows = 40;  // per dataset; 5 rows a shard: 8 shards a dataset and model
constexpr int kJobs = 6;   // one of them cancelled
constexpr int kWorkers = 4;

bool Finished(emar::v1::JobState s) {
  return s == emar::v1::JOB_STATE_SUCCEEDED || s == emar::v1::JOB_STATE_FAILED ||
         s == emar::v1::JOB_STATE_CANCELLED;
}

// References and two models' outputs: the candidate is right on every third row the base got
// wrong, so the report has non-trivial deltas.
struct Inputs {
  std::string refs, base, cand;
  Inputs() {
    for (int i = 0; i < kRows; ++i) {
      const char* label = i % 2 ? "pos" : "neg";
      const char* other = i % 2 ? "neg" : "pos";
      absl::StrAppend(&refs, "{\"id\": ", i, ", \"reference\": \"", label, "\"}\n");
      absl::StrAppend(&base, "{\"id\": ", i, ", \"prediction\": \"", i % 4 ? label : other,
                      "\"}\n");
      absl::StrAppend(&cand, "{\"id\": ", kRows - 1 - i, ", \"prediction\": \"",
                      (kRows - 1 - i) % 6 ? (kRows - 1 - i) % 2 ? "pos" : "neg" : "maybe", "\"}\n");
    }
  }
};

class CoordinatorConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.data_dir = dir_.path();
    o.tick = absl::Milliseconds(5);
    o.rows_per_shard = 5;
    o.max_lease_wait = absl::Seconds(1);
    o.durable_blobs = false;
    o.reads_need_lease = true;  // every read checked against the live leases
    auto c = Coordinator::Create(o);
    ASSERT_OK(c.status());
    coordinator_ = std::move(*c);
    const Inputs in;
    for (auto [name, text] : {std::pair{"refs.jsonl", &in.refs}, std::pair{"base.jsonl", &in.base},
                              std::pair{"cand.jsonl", &in.cand}}) {
      auto sha = coordinator_->blobs().Put(*text);
      ASSERT_OK(sha.status());
      digests_[name] = *sha;
    }
  }

  emar::v1::CreateJobRequest Request(int i) const {
    emar::v1::CreateJobRequest req;
    req.set_request_id(absl::StrCat("req-", i));
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name(absl::StrCat("job-", i));
    for (emar::v1::DatasetSpec* d : {s.mutable_target(), s.mutable_benchmark()}) {
      d->set_name(d == s.mutable_target() ? "t" : "b");
      d->set_references("refs.jsonl");
      d->set_metric("accuracy");
    }
    s.mutable_bootstrap()->set_resamples(200);
    s.mutable_base()->set_name("base");
    s.mutable_base()->set_target_outputs("base.jsonl");
    s.mutable_base()->set_benchmark_outputs("base.jsonl");
    emar::v1::ModelSpec& c = *s.add_candidates();
    c.set_name("cand");
    c.set_target_outputs("cand.jsonl");
    c.set_benchmark_outputs("base.jsonl");
    for (const auto& [name, sha] : digests_) (*req.mutable_input_digests())[name] = sha;
    return req;
  }

  // One worker: leases (a long-poll, or the next shard handed back with a Complete), heartbeats,
  // reads its ranges from the blob store, scores and completes, until `stop_`.
  void WorkerLoop(int w) {
    const std::string id = absl::StrCat("w", w);
    std::optional<emar::v1::ShardTask> task;
    while (!stop_.load()) {
      if (!task) {
        absl::Notification answered;
        std::optional<emar::v1::ShardTask> got;
        coordinator_->LeaseAsync(id, absl::Milliseconds(50),
                                 [&](std::optional<emar::v1::ShardTask> t) {
                                   got = std::move(t);
                                   answered.Notify();
                                 });
        answered.WaitForNotification();
        task = std::move(got);
        continue;
      }
      emar::v1::HeartbeatRequest hb;
      hb.set_lease_id(task->lease_id());
      hb.set_worker_id(id);
      absl::StatusOr<emar::v1::HeartbeatResponse> beat = coordinator_->Heartbeat(hb);
      if (!beat.ok() || !beat->keep_going()) {  // cancelled: drop the shard
        Count(refused_, task->job_id());
        task.reset();
        continue;
      }
      emar::v1::CompleteRequest req;
      req.set_lease_id(task->lease_id());
      req.set_worker_id(id);
      req.set_job_id(task->job_id());
      req.set_shard_id(task->shard_id());
      req.set_lease_next(w % 2 == 0);  // half the workers use the combined call
      // A read, or the Complete, of a job cancelled since the heartbeat is refused: counted, and
      // checked at the end to have happened to the cancelled job only.
      absl::StatusOr<emar::v1::ShardResult> result = Score(*task);
      if (!result.ok()) {
        Count(refused_, task->job_id());
        task.reset();
        continue;
      }
      *req.mutable_result() = std::move(*result);
      absl::StatusOr<emar::v1::CompleteResponse> done = coordinator_->Complete(req);
      Count(done.ok() ? completed_ : refused_, task->job_id());
      task.reset();
      if (done.ok() && done->has_next_task()) task = std::move(*done->mutable_next_task());
    }
  }

  void Count(std::map<std::string, int>& counts, const std::string& job_id) {
    absl::MutexLock lock(&counts_mu_);
    ++counts[job_id];
  }

  absl::StatusOr<emar::v1::ShardResult> Score(const emar::v1::ShardTask& t) {
    for (const emar::v1::BlobRange* r : {&t.references(), &t.outputs()}) {
      if (absl::Status s = coordinator_->blob_access().CheckRead(t.lease_id(), *r); !s.ok()) {
        return s;
      }
    }
    auto refs = coordinator_->blobs().Read(t.references().sha256(), t.references().offset(),
                                           t.references().length());
    auto outs = coordinator_->blobs().Read(t.outputs().sha256(), t.outputs().offset(),
                                           t.outputs().length());
    if (!refs.ok()) return refs.status();
    if (!outs.ok()) return outs.status();
    auto table =
        ReferenceTable::Parse(t.references().display_name(), *refs, ToFieldConfig(t.fields()));
    if (!table.ok()) return table.status();
    auto metric = MetricOfTask(t);
    if (!metric.ok()) return metric.status();
    return ScoreShard(t, *outs, *table, **metric);
  }

  // A job created: recorded and watched; its watcher checks a finished job never changes.
  void Add(const emar::v1::Job& job) {
    const std::string id = job.job_id();
    auto h = coordinator_->Watch(id, [this, id](const emar::v1::Job& j) {
      absl::MutexLock lock(&jobs_mu_);
      emar::v1::JobState& seen = last_seen_[id];
      EXPECT_FALSE(Finished(seen) && seen != j.state())
          << id << ": a finished job changed state to " << j.state();
      seen = j.state();
    });
    ASSERT_OK(h.status());
    absl::MutexLock lock(&jobs_mu_);
    ids_.push_back(id);
    watches_.push_back(*h);
  }

  std::vector<std::string> Ids() {
    absl::MutexLock lock(&jobs_mu_);
    return ids_;
  }

  // The even jobs, created on this thread; each request is sent twice (a retry with the same
  // request id gives the same job).
  void SyncClient() {
    for (int i = 0; i < kJobs; i += 2) {
      auto job = coordinator_->CreateJob(Request(i));
      ASSERT_OK(job.status());
      auto again = coordinator_->CreateJob(Request(i));
      ASSERT_OK(again.status());
      EXPECT_EQ(again->job_id(), job->job_id());
      Add(*job);
    }
  }

  // The odd jobs, created on the coordinator's planner threads.
  void AsyncClient() {
    for (int i = 1; i < kJobs; i += 2) {
      absl::Notification created;
      absl::StatusOr<emar::v1::Job> job;
      coordinator_->CreateJobAsync(Request(i), [&](absl::StatusOr<emar::v1::Job> j) {
        job = std::move(j);
        created.Notify();
      });
      created.WaitForNotification();
      ASSERT_OK(job.status());
      Add(*job);
    }
  }

  // Lists, jobs, metrics and lease-expiry ticks (on top of the ticker's) until `*reading` drops.
  void Reader(const std::atomic<bool>* reading) {
    while (reading->load()) {
      ASSERT_OK(coordinator_->ListJobs(emar::v1::ListJobsRequest()).status());
      for (const std::string& id : Ids()) ASSERT_OK(coordinator_->GetJob(id).status());
      EXPECT_NE(coordinator_->MetricsText().find("emar_"), std::string::npos);
      coordinator_->Tick();
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  // The jobs once every one has ended (a generous guard only: it takes well under a second).
  std::map<std::string, emar::v1::Job> WaitForTheEnd() {
    const absl::Time give_up = absl::Now() + absl::Minutes(5);
    std::map<std::string, emar::v1::Job> done;
    while (done.size() < static_cast<size_t>(kJobs) && absl::Now() < give_up) {
      for (const std::string& id : Ids()) {
        auto job = coordinator_->GetJob(id);
        EXPECT_OK(job.status());
        if (job.ok() && Finished(job->state())) done[id] = *job;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return done;
  }

  // Every job that ran to the end has the same report (the same inputs, whatever the
  // interleaving) with the expected deltas.
  void ExpectSameReports(const std::map<std::string, emar::v1::Job>& jobs,
                         const std::string& cancelled) {
    std::optional<emar::v1::Report> first;
    for (const auto& [id, job] : jobs) {
      SCOPED_TRACE(id);
      // The cancelled job ended CANCELLED, or SUCCEEDED when its last shard won the race.
      if (id == cancelled && job.state() == emar::v1::JOB_STATE_CANCELLED) continue;
      ASSERT_EQ(job.state(), emar::v1::JOB_STATE_SUCCEEDED) << job.error();
      EXPECT_EQ(job.progress().shards_done(), job.progress().shards_total());
      EXPECT_EQ(job.progress().shards_total(), 4 * kRows / 5);
      auto report = coordinator_->GetReport(id);
      ASSERT_OK(report.status());
      report->clear_job_id();
      report->clear_name();
      if (!first) {
        first = *report;
        continue;
      }
      std::string diff;
      google::protobuf::util::MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(*first, *report)) << "same inputs, another report:\n" << diff;
    }
    ASSERT_TRUE(first) << "no job succeeded";
    // Target: base 30/40 right, candidate 33/40; the benchmark compares the base with itself.
    EXPECT_NEAR(first->candidates(0).target().delta().value(), 0.075, 1e-12);
    EXPECT_NEAR(first->candidates(0).benchmark().delta().value(), 0.0, 1e-12);
  }

  TempDir dir_;
  std::unique_ptr<Coordinator> coordinator_;
  std::map<std::string, std::string> digests_;
  std::atomic<bool> stop_{false};
  absl::Mutex counts_mu_;
  // Per job: Completes accepted; reads, heartbeats or Completes refused.
  std::map<std::string, int> completed_ ABSL_GUARDED_BY(counts_mu_);
  std::map<std::string, int> refused_ ABSL_GUARDED_BY(counts_mu_);
  absl::Mutex jobs_mu_;
  std::vector<std::string> ids_ ABSL_GUARDED_BY(jobs_mu_);
  std::map<std::string, emar::v1::JobState> last_seen_ ABSL_GUARDED_BY(jobs_mu_);
  std::vector<uint64_t> watches_ ABSL_GUARDED_BY(jobs_mu_);
};

TEST_F(CoordinatorConcurrencyTest, WorkersClientsAndWatchersAtOnceAgreeOnEveryJob) {
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) workers.emplace_back([this, w] { WorkerLoop(w); });
  std::atomic<bool> reading{true};
  std::thread reader([&] { Reader(&reading); });
  std::thread sync_client([&] { SyncClient(); });
  std::thread async_client([&] { AsyncClient(); });
  sync_client.join();
  async_client.join();

  // Cancel the last job created, whatever it has done by now.
  const std::vector<std::string> ids = Ids();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kJobs));
  const std::string cancelled = ids.back();
  ASSERT_OK(coordinator_->CancelJob(cancelled).status());

  std::map<std::string, emar::v1::Job> jobs = WaitForTheEnd();
  coordinator_->WaitForIdle();
  reading = false;
  reader.join();
  stop_ = true;
  for (std::thread& t : workers) t.join();
  {
    absl::MutexLock lock(&jobs_mu_);
    for (uint64_t h : watches_) coordinator_->Unwatch(h);
    for (const auto& [id, job] : jobs) {
      EXPECT_EQ(last_seen_[id], job.state()) << id << ": the watcher did not see the end";
    }
  }
  ASSERT_EQ(jobs.size(), static_cast<size_t>(kJobs)) << "not every job finished";
  ExpectSameReports(jobs, cancelled);

  // Every shard of a job that ran to the end was completed exactly once (no lease expired:
  // the TTL is the default 30 s) or taken from the score cache (the jobs share their inputs),
  // and nothing was refused but the cancelled job's.
  absl::MutexLock lock(&counts_mu_);
  for (const auto& [id, job] : jobs) {
    if (job.state() != emar::v1::JOB_STATE_SUCCEEDED) continue;
    EXPECT_EQ(completed_[id] + job.progress().shards_reused(), job.progress().shards_total()) << id;
    EXPECT_EQ(refused_[id], 0) << id;
  }
}

}  // namespace
}  // namespace emar
