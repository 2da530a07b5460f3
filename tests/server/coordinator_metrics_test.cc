// CoordinatorMetrics: the exact /metrics text, shard durations into their buckets, live workers
// by lease TTL, and the sweep that forgets departed workers and unfinished leases.
#include "server/coordinator_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
constexpr absl::Duration kTtl = absl::Seconds(30);

TEST(CoordinatorMetricsTest, EmptyPageIsComplete) {
  CoordinatorMetrics m(kTtl);
  CoordinatorGauges g;
  g.jobs[emar::v1::JOB_STATE_QUEUED] = 2;
  g.jobs[emar::v1::JOB_STATE_SUCCEEDED] = 5;
  g.queued_shards = 7;
  g.blob_store_bytes = 1234;
  EXPECT_EQ(m.Text(g, kT0),
            "# HELP emar_jobs Jobs by state.\n# TYPE emar_jobs gauge\n"
            "emar_jobs{state=\"queued\"} 2\nemar_jobs{state=\"running\"} 0\n"
            "emar_jobs{state=\"succeeded\"} 5\nemar_jobs{state=\"failed\"} 0\n"
            "emar_jobs{state=\"cancelled\"} 0\n"
            "# HELP emar_shards Shards waiting for a worker (queued) or being scored (leased): "
            "scale workers on queued.\n# TYPE emar_shards gauge\n"
            "emar_shards{state=\"queued\"} 7\nemar_shards{state=\"leased\"} 0\n"
            "# HELP emar_workers Worker processes that leased or heartbeated within a lease "
            "TTL.\n# TYPE emar_workers gauge\nemar_workers 0\n"
            "# HELP emar_shard_duration_seconds From lease to accepted result.\n"
            "# TYPE emar_shard_duration_seconds histogram\n"
            "emar_shard_duration_seconds_bucket{le=\"0.1\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"0.5\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"1\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"2\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"5\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"10\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"30\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"60\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"120\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"300\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"600\"} 0\n"
            "emar_shard_duration_seconds_bucket{le=\"+Inf\"} 0\n"
            "emar_shard_duration_seconds_sum 0\nemar_shard_duration_seconds_count 0\n"
            "# HELP emar_examples_scored_total Examples in accepted shard results.\n"
            "# TYPE emar_examples_scored_total counter\nemar_examples_scored_total 0\n"
            "# HELP emar_shards_reused_total Shards whose statistics came from the score cache "
            "(an earlier job scored the same bytes): not scored again.\n"
            "# TYPE emar_shards_reused_total counter\nemar_shards_reused_total 0\n"
            "# HELP emar_examples_reused_total Examples in shards reused from the score cache.\n"
            "# TYPE emar_examples_reused_total counter\nemar_examples_reused_total 0\n"
            "# HELP emar_blob_store_bytes Bytes of stored inputs.\n"
            "# TYPE emar_blob_store_bytes gauge\nemar_blob_store_bytes 1234\n"
            "# HELP emar_jobs_finished_total Jobs that reached a terminal state since the "
            "coordinator started, by state.\n"
            "# TYPE emar_jobs_finished_total counter\n"
            "emar_jobs_finished_total{state=\"succeeded\"} 0\n"
            "emar_jobs_finished_total{state=\"failed\"} 0\n"
            "emar_jobs_finished_total{state=\"cancelled\"} 0\n");
}

TEST(CoordinatorMetricsTest, ShardDurationsAndExamples) {
  CoordinatorMetrics m(kTtl);
  m.Leased("l1", "host-1/0", kT0);
  m.Leased("l2", "host-1/1", kT0);
  m.Scored("l1", 100, kT0 + absl::Milliseconds(300));  // (0.1, 0.5]
  m.Scored("l2", 50, kT0 + absl::Seconds(700));        // past the last bound
  m.Scored("l2", 50, kT0 + absl::Seconds(800));        // its lease is done: examples only
  m.Reused(3, 30);
  const std::string text = m.Text({}, kT0);
  EXPECT_THAT(text, HasSubstr("emar_shard_duration_seconds_bucket{le=\"0.1\"} 0\n"
                              "emar_shard_duration_seconds_bucket{le=\"0.5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("emar_shard_duration_seconds_bucket{le=\"600\"} 1\n"
                              "emar_shard_duration_seconds_bucket{le=\"+Inf\"} 2\n"
                              "emar_shard_duration_seconds_sum 700.3\n"
                              "emar_shard_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("emar_examples_scored_total 200\n"));
  EXPECT_THAT(text, HasSubstr("emar_shards_reused_total 3\n"));
  EXPECT_THAT(text, HasSubstr("emar_examples_reused_total 30\n"));
}

TEST(CoordinatorMetricsTest, FinishedJobsAreCountedByStateAndTheStoreLimitShownWhenSet) {
  CoordinatorMetrics m(absl::Seconds(30));
  m.Finished(emar::v1::JOB_STATE_FAILED);
  m.Finished(emar::v1::JOB_STATE_FAILED);
  m.Finished(emar::v1::JOB_STATE_SUCCEEDED);
  CoordinatorGauges g;
  const std::string without_limit = m.Text(g, absl::UnixEpoch());
  EXPECT_THAT(without_limit, HasSubstr("emar_jobs_finished_total{state=\"failed\"} 2\n"));
  EXPECT_THAT(without_limit, HasSubstr("emar_jobs_finished_total{state=\"succeeded\"} 1\n"));
  EXPECT_THAT(without_limit, Not(HasSubstr("emar_blob_store_limit_bytes")));
  g.blob_store_limit_bytes = 4096;
  EXPECT_THAT(m.Text(g, absl::UnixEpoch()), HasSubstr("emar_blob_store_limit_bytes 4096\n"));
}

TEST(CoordinatorMetricsTest, WorkersAreProcessesLiveWithinALeaseTtl) {
  CoordinatorMetrics m(kTtl);
  m.SawWorker("host-1/0", kT0);
  m.SawWorker("host-1/1", kT0);  // the same process
  m.SawWorker("host-2/0", kT0);
  EXPECT_THAT(m.Text({}, kT0), HasSubstr("emar_workers 2\n"));
  // host-1 heartbeats a lease; host-2 goes quiet.
  m.Leased("l1", "host-1/0", kT0);
  m.Heartbeat("l1", kT0 + kTtl);
  EXPECT_THAT(m.Text({}, kT0 + kTtl + absl::Seconds(1)), HasSubstr("emar_workers 1\n"));
}

TEST(CoordinatorMetricsTest, SweepForgetsDepartedWorkersAndStaleLeases) {
  CoordinatorMetrics m(kTtl);
  m.SawWorker("host-1", kT0);
  m.Leased("l1", "host-1", kT0);
  m.Sweep(kT0 + absl::Hours(3));
  // The lease is forgotten: a late result counts its examples but no duration.
  m.Scored("l1", 10, kT0 + absl::Hours(3));
  const std::string text = m.Text({}, kT0);
  EXPECT_THAT(text, HasSubstr("emar_shard_duration_seconds_count 0\n"));
  EXPECT_THAT(text, HasSubstr("emar_examples_scored_total 10\n"));
  EXPECT_THAT(text, HasSubstr("emar_workers 0\n"));
}

}  // namespace
}  // namespace emar
