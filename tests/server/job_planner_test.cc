#include "server/job_planner.h"

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// A job whose four output files and two references live in `blobs`.
emar::v1::CreateJobRequest Request(BlobStore& blobs, const std::string& target_metric, int rows) {
  std::string refs, outs;
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&refs, "{\"id\":", i, ",\"reference\":\"a b\"}\n");
    absl::StrAppend(&outs, "{\"id\":", i, ",\"prediction\":\"a\"}\n");
  }
  emar::v1::CreateJobRequest req;
  emar::v1::JobSpec& s = *req.mutable_spec();
  s.set_name("plan");
  for (auto* d : {s.mutable_target(), s.mutable_benchmark()}) {
    d->set_name(d == s.mutable_target() ? "t" : "b");
    d->set_references("refs.jsonl");
    d->set_metric(d == s.mutable_target() ? target_metric : "accuracy");
  }
  s.mutable_base()->set_name("base");
  s.mutable_base()->set_target_outputs("out.jsonl");
  s.mutable_base()->set_benchmark_outputs("out.jsonl");
  *s.add_candidates() = s.base();
  s.mutable_candidates(0)->set_name("cand");
  (*req.mutable_input_digests())["refs.jsonl"] = *blobs.Put(refs);
  (*req.mutable_input_digests())["out.jsonl"] = *blobs.Put(outs);
  return req;
}

int ShardsOf(const JobPlan& plan, emar::v1::DatasetRole role, const std::string& model) {
  int n = 0;
  for (const StoredShard& s : plan.shards) n += s.task.role() == role && s.task.model() == model;
  return n;
}

TEST(JobPlannerTest, DefaultsAreFilledAndShardsCoverEveryRow) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(blobs, "accuracy", 10), blobs, 3));
  EXPECT_EQ(plan.request.spec().formula(), "relative_gain");
  EXPECT_EQ(plan.request.spec().bootstrap().resamples(), 1000);
  EXPECT_EQ(plan.request.spec().bootstrap().seed(), 12345u);
  EXPECT_EQ(plan.request.spec().target().fields().id_field(), "id");
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_TARGET, "base"), 4);  // 3+3+3+1 rows
  int64_t rows = 0;
  for (const StoredShard& s : plan.shards) {
    EXPECT_EQ(s.task.reference_rows(), 10);
    rows += s.rows;
  }
  EXPECT_EQ(rows, 4 * 10);
}

TEST(JobPlannerTest, WideMetricsGetShardsWhoseResultFitsOneMessage) {
  // chrF rows are 18 statistics: at most 48 MiB / (9 * 18 + 16) = 282,758 rows a shard, whatever
  // --rows-per-shard asks; accuracy (1 column) on the same file stays in one shard.
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(blobs, "chrf", 300000), blobs, 10000000));
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_TARGET, "base"), 2);
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_BENCHMARK, "base"), 1);
}

TEST(JobPlannerTest, PresetWithLowerIsBetterMetricIsRefused) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "perplexity", 3);
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lower-is-better")));
  req.mutable_spec()->set_formula("(T0 - T1) / T0");  // an explicit expression is the user's call
  EXPECT_OK(PlanJob(req, blobs, 100).status());
}

TEST(JobPlannerTest, InputsMustBeUploaded) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "accuracy", 3);
  req.mutable_input_digests()->erase("out.jsonl");
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base.target_outputs")));
}

}  // namespace
}  // namespace emar
