// The coordinator behind real gRPC (in-process channel), with real worker threads and a real
// SQLite store in a temp dir: spec errors, unknown jobs, idempotence, labels and series,
// cancellation, leases, finalization and restart on the same data dir.
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/server/coordinator_harness.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CoordinatorTest, SpecErrorsNameTheField) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0);
  JobFile bad_metric = job.Load();
  bad_metric.spec.mutable_target()->set_metric("acuracy");
  EXPECT_THAT(h.client().Submit(bad_metric, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target.metric")));
  JobFile bad_formula = job.Load();
  bad_formula.spec.set_formula("(T1 - T0) / ");
  EXPECT_THAT(h.client().Submit(bad_formula, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("formula")));
  JobFile no_candidates = job.Load();
  no_candidates.spec.clear_candidates();
  EXPECT_THAT(h.client().Submit(no_candidates, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidates")));
  JobFile twice = job.Load();
  twice.spec.mutable_candidates(0)->set_name("base");
  EXPECT_THAT(h.client().Submit(twice, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("used twice")));
}

TEST(CoordinatorTest, UnknownJobIsNotFound) {
  TempDir data;
  Harness h(data.path(), 0);
  EXPECT_THAT(h.client().GetJob("job-nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-nope")));
  EXPECT_THAT(h.client().GetReport("job-nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-nope")));
  EXPECT_THAT(h.client().CancelJob("job-nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-nope")));
  EXPECT_THAT(h.client().Watch("job-nope", nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-nope")));
}

TEST(CoordinatorTest, UploadDigestMismatchIsRejected) {
  TempDir data, inputs;
  Harness h(data.path(), 0);
  Write(inputs.path() + "/f.jsonl", "{\"id\": 1}\n");
  const std::string wrong = Sha256Hex("something else entirely");
  EXPECT_THAT(h.client().Upload(inputs.path() + "/f.jsonl", wrong),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("digest mismatch")));
  EXPECT_TRUE(h.coordinator().FindMissingBlobs({wrong}) == std::vector<std::string>{wrong});
  const std::string right = *Sha256OfFile(inputs.path() + "/f.jsonl");
  EXPECT_OK(h.client().Upload(inputs.path() + "/f.jsonl", right));
  EXPECT_TRUE(h.coordinator().FindMissingBlobs({right}).empty());
}

TEST(CoordinatorTest, CreateJobIsIdempotentOnRequestId) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0);
  ASSERT_OK_AND_ASSIGN(auto a, h.client().Submit(job.Load(), "orchestrator-step-42"));
  ASSERT_OK_AND_ASSIGN(auto b, h.client().Submit(job.Load(), "orchestrator-step-42"));
  EXPECT_EQ(a.job_id(), b.job_id());
  ASSERT_OK_AND_ASSIGN(auto c, h.client().Submit(job.Load(), "orchestrator-step-43"));
  EXPECT_NE(a.job_id(), c.job_id());
  ASSERT_OK_AND_ASSIGN(auto jobs, h.client().ListJobs(10));
  EXPECT_EQ(jobs.size(), 2u);
}

// A request id reused for a different spec or different inputs is a mistake the
// caller must hear about, not a silent answer with the old job (and later its old report).
TEST(CoordinatorTest, ARequestIdWithADifferentSpecOrInputsIsAlreadyExists) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0);
  ASSERT_OK_AND_ASSIGN(auto a, h.client().Submit(job.Load(), "step-42"));
  JobFile renamed = job.Load();
  renamed.spec.set_name("another");
  EXPECT_THAT(h.client().Submit(renamed, "step-42"),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       ::testing::AllOf(HasSubstr("step-42"), HasSubstr(a.job_id()))));
  JobFile labelled = job.Load();
  (*labelled.spec.mutable_labels())["step"] = "42";
  EXPECT_THAT(h.client().Submit(labelled, "step-42"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(a.job_id())));
  Write(inputs.path() + "/cand.t.jsonl", "{\"id\": \"a\", \"prediction\": \"pos\"}\n");
  EXPECT_THAT(h.client().Submit(job.Load(), "step-42"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("different spec or different "
                                                                   "inputs")));
  ASSERT_OK_AND_ASSIGN(auto jobs, h.client().ListJobs(10));
  EXPECT_EQ(jobs.size(), 1u);
}

// Labels are checked, kept on the job, filter ListJobs (paged) and order a series.
TEST(CoordinatorTest, LabelsFilterListsAndOrderASeriesNumerically) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 2, /*rows_per_shard=*/2);
  std::vector<std::string> ids;
  for (const char* step : {"1000", "200", "30"}) {
    JobFile f = job.Load();
    (*f.spec.mutable_labels())["run"] = "exp-42";
    (*f.spec.mutable_labels())["step"] = step;
    ASSERT_OK_AND_ASSIGN(auto created, h.client().Submit(f, ""));
    EXPECT_EQ(created.labels().at("step"), step);
    ASSERT_OK_AND_ASSIGN(auto done, h.client().Watch(created.job_id(), nullptr));
    ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
    ids.push_back(created.job_id());
  }
  JobFile other = job.Load();
  (*other.spec.mutable_labels())["run"] = "exp-7";
  ASSERT_OK(h.client().Submit(other, "").status());
  JobFile unordered = job.Load();
  (*unordered.spec.mutable_labels())["run"] = "exp-42";
  ASSERT_OK_AND_ASSIGN(auto no_step, h.client().Submit(unordered, ""));

  emar::v1::ListJobsRequest list;
  (*list.mutable_labels())["run"] = "exp-42";
  list.set_limit(3);
  ASSERT_OK_AND_ASSIGN(auto page1, h.client().ListJobs(list));
  ASSERT_EQ(page1.jobs_size(), 3);
  EXPECT_EQ(page1.jobs(0).job_id(), no_step.job_id());  // newest first
  ASSERT_FALSE(page1.next_page_token().empty());
  list.set_page_token(page1.next_page_token());
  ASSERT_OK_AND_ASSIGN(auto page2, h.client().ListJobs(list));
  ASSERT_EQ(page2.jobs_size(), 1);
  EXPECT_EQ(page2.jobs(0).job_id(), ids[0]);
  EXPECT_TRUE(page2.next_page_token().empty());

  emar::v1::GetSeriesRequest req;
  (*req.mutable_labels())["run"] = "exp-42";
  req.set_by("step");
  ASSERT_OK_AND_ASSIGN(emar::v1::Series series, h.client().GetSeries(req));
  EXPECT_TRUE(series.numeric());
  ASSERT_EQ(series.points_size(), 3);
  EXPECT_EQ(series.points(0).value(), "30");  // 30 < 200 < 1000, not "1000" < "200" < "30"
  EXPECT_EQ(series.points(0).job_id(), ids[2]);
  EXPECT_EQ(series.points(2).value(), "1000");
  ASSERT_EQ(series.points(0).candidates_size(), 1);
  EXPECT_DOUBLE_EQ(series.points(0).candidates(0).emar().value(), 0.5);
  EXPECT_DOUBLE_EQ(series.points(0).candidates(0).target_delta().value(), 0.25);
  EXPECT_DOUBLE_EQ(series.points(0).base_target().value(), 0.5);
  ASSERT_EQ(series.skipped_size(), 1);
  EXPECT_EQ(series.skipped(0).job_id(), no_step.job_id());
  EXPECT_THAT(series.skipped(0).reason(), HasSubstr("no label 'step'"));

  req.clear_labels();
  EXPECT_THAT(h.client().GetSeries(req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--label")));
  JobFile bad = job.Load();
  (*bad.spec.mutable_labels())["has space"] = "x";
  EXPECT_THAT(h.client().Submit(bad, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spec.labels: key")));
}

// The second job over the same inputs scores nothing and reports the same bytes; a
// checkpoint's job rescoring only the candidate reuses the base model's shards.
TEST(CoordinatorTest, ASecondJobOverTheSameInputsScoresNothingAndReportsTheSameBytes) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 2, /*rows_per_shard=*/2);
  ASSERT_OK_AND_ASSIGN(auto first, h.RunToEnd(job.Load()));
  ASSERT_EQ(first.state(), emar::v1::JOB_STATE_SUCCEEDED) << first.error();
  EXPECT_EQ(first.progress().shards_reused(), 0);
  EXPECT_EQ(first.progress().examples_scored(), 14);
  ASSERT_OK_AND_ASSIGN(auto second, h.RunToEnd(job.Load()));
  ASSERT_EQ(second.state(), emar::v1::JOB_STATE_SUCCEEDED) << second.error();
  EXPECT_EQ(second.progress().shards_total(), 8);
  EXPECT_EQ(second.progress().shards_done(), 8);
  EXPECT_EQ(second.progress().shards_reused(), 8);
  EXPECT_EQ(second.progress().examples_scored(), 0);
  EXPECT_EQ(second.progress().examples_reused(), 14);
  ASSERT_OK_AND_ASSIGN(auto r1, h.client().GetReport(first.job_id()));
  ASSERT_OK_AND_ASSIGN(auto r2, h.client().GetReport(second.job_id()));
  r1.clear_job_id();
  r2.clear_job_id();
  EXPECT_EQ(r1.SerializeAsString(), r2.SerializeAsString());
  EXPECT_THAT(h.coordinator().MetricsText(), HasSubstr("emar_shards_reused_total 8\n"));
  EXPECT_THAT(h.coordinator().MetricsText(), HasSubstr("emar_examples_scored_total 14\n"));

  // A new checkpoint: new candidate outputs, the same base outputs and references.
  Write(inputs.path() + "/cand.t.jsonl",
        "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"neg\"}\n"
        "{\"id\": \"c\", \"prediction\": \"pos\"}\n{\"id\": \"d\", \"prediction\": \"neg\"}\n");
  ASSERT_OK_AND_ASSIGN(auto third, h.RunToEnd(job.Load()));
  ASSERT_EQ(third.state(), emar::v1::JOB_STATE_SUCCEEDED) << third.error();
  EXPECT_EQ(third.progress().shards_reused(), 6);  // all but the candidate's 2 target shards
  EXPECT_EQ(third.progress().examples_scored(), 4);
  ASSERT_OK_AND_ASSIGN(auto r3, h.client().GetReport(third.job_id()));
  EXPECT_DOUBLE_EQ(r3.candidates(0).target().candidate().value(), 1.0);
  EXPECT_DOUBLE_EQ(r3.candidates(0).target().base().value(), 0.5);

  // Deleting the job that scored first keeps the cache's results (the second job's copies).
  ASSERT_OK(h.client().DeleteJob(first.job_id()).status());
  ASSERT_OK_AND_ASSIGN(auto fourth, h.RunToEnd(job.Load()));
  EXPECT_EQ(fourth.progress().shards_reused(), 8);
}

TEST(CoordinatorTest, CancelStopsLeasesAndHeartbeats) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0);
  ASSERT_OK_AND_ASSIGN(auto created, h.client().Submit(job.Load(), ""));
  std::optional<emar::v1::ShardTask> task;
  h.coordinator().LeaseAsync("w", absl::Seconds(1),
                             [&](std::optional<emar::v1::ShardTask> t) { task = t; });
  ASSERT_TRUE(task);
  ASSERT_OK_AND_ASSIGN(auto cancelled, h.client().CancelJob(created.job_id()));
  EXPECT_EQ(cancelled.state(), emar::v1::JOB_STATE_CANCELLED);
  emar::v1::HeartbeatRequest hb;
  hb.set_lease_id(task->lease_id());
  // The job is gone, and its leases with it: the worker stops on NOT_FOUND.
  EXPECT_THAT(h.coordinator().Heartbeat(hb), StatusIs(absl::StatusCode::kNotFound));
  std::optional<emar::v1::ShardTask> none = emar::v1::ShardTask();
  h.coordinator().LeaseAsync("w", absl::ZeroDuration(),
                             [&](std::optional<emar::v1::ShardTask> t) { none = t; });
  h.coordinator().Tick();
  EXPECT_FALSE(none);
}

TEST(CoordinatorTest, DuplicateCompleteIsAcknowledgedNotCounted) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0);
  ASSERT_OK_AND_ASSIGN(auto created, h.client().Submit(job.Load(), ""));
  std::optional<emar::v1::ShardTask> task;
  h.coordinator().LeaseAsync("w", absl::Seconds(1),
                             [&](std::optional<emar::v1::ShardTask> t) { task = t; });
  ASSERT_TRUE(task);
  emar::v1::CompleteRequest req;
  req.set_job_id(task->job_id());
  req.set_shard_id(task->shard_id());
  req.set_lease_id(task->lease_id());
  req.mutable_result()->set_stats_width(1);
  emar::v1::CompleteRequest malformed = req;
  malformed.mutable_result()->add_stats(1.0);  // a value without its row
  EXPECT_THAT(h.coordinator().Complete(malformed),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("result refused")));
  // Refused, the shard was requeued at once (behind the others, an attempt spent) and its lease
  // retired: a late answer on it is acknowledged and ignored. The next shard is leased to send
  // a result of its shape.
  ASSERT_OK_AND_ASSIGN(auto late, h.coordinator().Complete(req));
  EXPECT_TRUE(late.duplicate());
  task.reset();
  h.coordinator().LeaseAsync("w", absl::Seconds(1),
                             [&](std::optional<emar::v1::ShardTask> t) { task = t; });
  ASSERT_TRUE(task);
  req.set_shard_id(task->shard_id());
  req.set_lease_id(task->lease_id());
  for (int64_t i = 0; i < task->rows(); ++i) {  // a result of the shard's shape
    req.mutable_result()->add_reference_row(static_cast<uint32_t>(i));
    req.mutable_result()->add_line(static_cast<uint64_t>(task->first_line() + i));
    req.mutable_result()->add_stats(1.0);
  }
  ASSERT_OK_AND_ASSIGN(auto r1, h.coordinator().Complete(req));
  ASSERT_OK_AND_ASSIGN(auto r2, h.coordinator().Complete(req));
  EXPECT_FALSE(r1.duplicate());
  EXPECT_TRUE(r2.duplicate());
  ASSERT_OK_AND_ASSIGN(auto j, h.client().GetJob(created.job_id()));
  EXPECT_EQ(j.progress().shards_done(), 1);
}

// A result or a failure counts only with the shard's current lease.
TEST(CoordinatorTest, CompleteAndHeartbeatNeedTheShardsCurrentLease) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 0, /*rows_per_shard=*/2);
  ASSERT_OK_AND_ASSIGN(auto created, h.client().Submit(job.Load(), ""));
  std::optional<emar::v1::ShardTask> task;
  h.coordinator().LeaseAsync("w", absl::Seconds(1),
                             [&](std::optional<emar::v1::ShardTask> t) { task = t; });
  ASSERT_TRUE(task);
  emar::v1::CompleteRequest forged;
  forged.set_job_id(task->job_id());
  forged.set_shard_id(task->shard_id());
  forged.mutable_result()->set_stats_width(1);
  EXPECT_THAT(h.coordinator().Complete(forged),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lease_id")));
  forged.set_lease_id("lease-1-" + task->job_id() + "-0");  // the old, guessable form
  EXPECT_THAT(h.coordinator().Complete(forged),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a lease of shard")));
  // Another shard's lease, a shard that is not leased, a job that does not exist.
  emar::v1::CompleteRequest other_shard = forged;
  other_shard.set_lease_id(task->lease_id());
  other_shard.set_shard_id(task->shard_id() + 1);
  EXPECT_THAT(h.coordinator().Complete(other_shard),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  other_shard.set_shard_id(999);
  EXPECT_THAT(h.coordinator().Complete(other_shard), StatusIs(absl::StatusCode::kNotFound));
  emar::v1::CompleteRequest no_job = forged;
  no_job.set_job_id("job-0000000000000000");
  EXPECT_THAT(h.coordinator().Complete(no_job), StatusIs(absl::StatusCode::kNotFound));
  // A forged input error would fail the job: refused, the job goes on.
  emar::v1::CompleteRequest fail = forged;
  fail.mutable_failure()->set_message("made up");
  fail.mutable_failure()->set_input_error(true);
  EXPECT_THAT(h.coordinator().Complete(fail), StatusIs(absl::StatusCode::kFailedPrecondition));
  emar::v1::HeartbeatRequest hb;
  hb.set_lease_id("lease-9-ffffffffffffffff");
  EXPECT_THAT(h.coordinator().Heartbeat(hb), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto j, h.client().GetJob(created.job_id()));
  EXPECT_EQ(j.state(), emar::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(j.progress().shards_done(), 0);

  // Real workers now finish it with the right report: nothing forged was counted.
  WorkerOptions w;
  w.threads = 2;
  w.lease_wait = absl::Milliseconds(200);
  WorkerLoop workers(h.channel(), w);
  std::thread t([&] { workers.Run(); });
  // The hand-taken lease expires (TTL 30 s by default) unless completed: fail it honestly
  // so the shard is requeued now. A failure with the current lease counts one attempt.
  emar::v1::CompleteRequest honest;
  honest.set_job_id(task->job_id());
  honest.set_shard_id(task->shard_id());
  honest.set_lease_id(task->lease_id());
  honest.mutable_failure()->set_message("worker shutting down");
  ASSERT_OK_AND_ASSIGN(auto resp, h.coordinator().Complete(honest));
  EXPECT_FALSE(resp.duplicate());
  // The same lease again is now stale: acknowledged as a duplicate, ignored.
  ASSERT_OK_AND_ASSIGN(auto again, h.coordinator().Complete(honest));
  EXPECT_TRUE(again.duplicate());
  hb.set_lease_id(task->lease_id());
  ASSERT_OK_AND_ASSIGN(auto beat, h.coordinator().Heartbeat(hb));
  EXPECT_FALSE(beat.keep_going());
  ASSERT_OK_AND_ASSIGN(auto done, h.client().Watch(created.job_id(), nullptr));
  workers.Stop();
  t.join();
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(created.job_id()));
  // SmallJob's scores, computed by hand in SmallJobReportsScoresDeltasAndEmar.
  EXPECT_DOUBLE_EQ(report.candidates(0).target().base().value(), 0.5);
  EXPECT_DOUBLE_EQ(report.candidates(0).target().candidate().value(), 0.75);
}

// A light job's report is not held behind a heavy job's finalization.
TEST(CoordinatorTest, HeavyFinalizationDoesNotDelayALightJob) {
  TempDir data, inputs, heavy_dir;
  SmallJob light(inputs.path());
  // Heavy: chrF on 10,000 rows with 5,000 approximate-randomization trials per delta (~5 s).
  std::string refs, base, cand;
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&refs, "{\"id\": ", i, ", \"reference\": \"the cat sat on mat ", i, "\"}\n");
    absl::StrAppend(&base, "{\"id\": ", i, ", \"prediction\": \"a cat sat on the mat\"}\n");
    absl::StrAppend(&cand, "{\"id\": ", i, ", \"prediction\": \"the cat sat on mat ", i % 7,
                    "\"}\n");
  }
  Write(heavy_dir.path() + "/r.jsonl", refs);
  Write(heavy_dir.path() + "/base.jsonl", base);
  Write(heavy_dir.path() + "/cand.jsonl", cand);
  const std::string heavy_yaml = R"(name: heavy
target: {name: t, references: r.jsonl, metric: chrf}
benchmark: {name: b, references: r.jsonl, metric: chrf}
base: {name: base, target_outputs: base.jsonl, benchmark_outputs: base.jsonl}
candidates:
  - {name: cand, target_outputs: cand.jsonl, benchmark_outputs: cand.jsonl}
formula: T1 - T0
bootstrap: {test: approximate_randomization, ar_trials: 5000}
)";
  Harness h(data.path(), 2);
  ASSERT_OK_AND_ASSIGN(
      auto heavy,
      h.client().Submit(*ParseJobFile(heavy_yaml, heavy_dir.path() + "/job.yaml", heavy_dir.path()),
                        ""));
  // Wait until every heavy shard is scored: from then on it is being finalized.
  for (;;) {
    ASSERT_OK_AND_ASSIGN(auto j, h.client().GetJob(heavy.job_id()));
    ASSERT_FALSE(IsTerminalJobState(j.state())) << "the heavy job finished too soon to tell";
    if (j.progress().shards_done() == j.progress().shards_total()) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(light.Load()));
  EXPECT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto still, h.client().GetJob(heavy.job_id()));
  EXPECT_EQ(still.state(), emar::v1::JOB_STATE_RUNNING)
      << "the light job should finish while the heavy one is still being finalized";
  ASSERT_OK_AND_ASSIGN(auto heavy_done, h.client().Watch(heavy.job_id(), nullptr));
  EXPECT_EQ(heavy_done.state(), emar::v1::JOB_STATE_SUCCEEDED) << heavy_done.error();
}

TEST(CoordinatorTest, RestartResumesJobsAndGivesTheSameReport) {
  TempDir inputs, reference_data, data;
  SmallJob job(inputs.path());
  std::string expected;
  {
    Harness h(reference_data.path(), 2, 1);
    ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(job.Load()));
    ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
    report.clear_job_id();
    expected = report.SerializeAsString();
  }
  std::string job_id;
  {
    // No workers: score three shards by hand, then "crash" with the rest unleased or leased.
    Harness h(data.path(), 0, 1);
    ASSERT_OK_AND_ASSIGN(auto created, h.client().Submit(job.Load(), ""));
    job_id = created.job_id();
    WorkerOptions w;
    w.threads = 1;
    w.lease_wait = absl::Milliseconds(100);
    WorkerLoop worker(h.channel(), w);
    std::thread t([&] { worker.Run(); });
    for (int i = 0; i < 2000; ++i) {
      auto j = h.client().GetJob(job_id);
      if (j.ok() && j->progress().shards_done() >= 3) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
    worker.Stop();
    t.join();
  }
  Harness h(data.path(), 2, 1);
  ASSERT_OK_AND_ASSIGN(auto done, h.client().Watch(job_id, nullptr));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(job_id));
  report.clear_job_id();
  EXPECT_EQ(report.SerializeAsString(), expected);
}

}  // namespace
}  // namespace emar
