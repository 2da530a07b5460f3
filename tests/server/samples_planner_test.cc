// PlanJob on datasets with several samples per item and on score datasets without a references
// file: the sample field reaches the shards (pass_at_k defaults it), label metrics are refused,
// a missing references file is allowed only when every metric is `score` (the rows are then the
// base outputs' distinct ids), and the power settings are checked.
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "server/content_keys.h"
#include "server/job_planner.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class SamplesPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(blobs_.Init()); }

  // Target "judge": 5 items x 3 samples with a "grade", scored by `metric`; benchmark "qa".
  emar::v1::CreateJobRequest Request(const emar::v1::MetricSpec& metric, bool references) {
    std::string refs, samples, outs;
    for (int i = 0; i < 5; ++i) {
      absl::StrAppend(&refs, "{\"id\":\"q", i, "\",\"reference\":\"a\"}\n");
      absl::StrAppend(&outs, "{\"id\":\"q", i, "\",\"prediction\":\"a\"}\n");
      for (int s = 0; s < 3; ++s) {
        absl::StrAppend(&samples, "{\"id\":\"q", (i + s) % 5, "\",\"sample\":", s,
                        ",\"prediction\":\"a\",\"grade\":", s, "}\n");
      }
    }
    emar::v1::CreateJobRequest req;
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name("samples");
    s.mutable_base()->set_name("base");
    s.add_candidates()->set_name("cand");
    emar::v1::DatasetSpec* t = s.add_targets();
    t->set_name("judge");
    if (references) t->set_references("refs.jsonl");
    *t->add_metrics() = metric;
    emar::v1::DatasetSpec* b = s.add_benchmarks();
    b->set_name("qa");
    b->set_references("refs.jsonl");
    b->add_metrics()->set_name("accuracy");
    for (auto* model : {s.mutable_base(), s.mutable_candidates(0)}) {
      (*model->mutable_outputs())["judge"] = "samples.jsonl";
      (*model->mutable_outputs())["qa"] = "out.jsonl";
    }
    (*req.mutable_input_digests())["refs.jsonl"] = *blobs_.Put(refs);
    (*req.mutable_input_digests())["samples.jsonl"] = *blobs_.Put(samples);
    (*req.mutable_input_digests())["out.jsonl"] = *blobs_.Put(outs);
    return req;
  }

  static emar::v1::MetricSpec Metric(const std::string& name) {
    emar::v1::MetricSpec m;
    m.set_name(name);
    return m;
  }

  TempDir dir_;
  BlobStore blobs_{dir_.path()};
};

TEST_F(SamplesPlannerTest, PassAtKDefaultsTheSampleFieldAndItReachesTheShards) {
  emar::v1::MetricSpec m = Metric("pass_at_k");
  m.set_k(2);
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(m, true), blobs_, 4));
  EXPECT_EQ(plan.request.spec().targets(0).fields().sample_field(), "sample");
  EXPECT_EQ(plan.request.spec().benchmarks(0).fields().sample_field(), "");
  EXPECT_EQ(plan.request.spec().bootstrap().power(), 0.8);
  EXPECT_EQ(plan.request.spec().bootstrap().small_dataset_items(), 100);
  int judge = 0;
  for (const StoredShard& s : plan.shards) {
    if (s.task.dataset() != "judge") continue;
    ++judge;
    EXPECT_EQ(s.task.fields().sample_field(), "sample");
    EXPECT_EQ(s.task.reference_rows(), 5);
  }
  EXPECT_EQ(judge, 2 * 4);  // 15 lines in ranges of 4, per model
}

TEST_F(SamplesPlannerTest, TheSampleFieldChangesTheScoreCacheKey) {
  emar::v1::MetricSpec m = Metric("accuracy");
  emar::v1::CreateJobRequest with = Request(m, true);
  with.mutable_spec()->mutable_targets(0)->mutable_fields()->set_sample_field("sample");
  ASSERT_OK_AND_ASSIGN(JobPlan a, PlanJob(with, blobs_, 100));
  emar::v1::ShardTask t = a.shards[0].task;
  ASSERT_EQ(t.dataset(), "judge");
  const std::string key = ScoreCacheKey(t);
  t.mutable_fields()->clear_sample_field();
  EXPECT_NE(ScoreCacheKey(t), key);
}

TEST_F(SamplesPlannerTest, LabelMetricsCannotAverageSamples) {
  emar::v1::CreateJobRequest req = Request(Metric("macro_f1"), true);
  req.mutable_spec()->mutable_targets(0)->mutable_fields()->set_sample_field("sample");
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'targets[0].metrics[0]'"), HasSubstr("macro_f1"),
                             HasSubstr("cannot average several samples per item"))));
}

TEST_F(SamplesPlannerTest, AScoreDatasetMayHaveNoReferencesItsIdsComeFromTheBaseOutputs) {
  emar::v1::MetricSpec m = Metric("score");
  m.set_field("grade");
  emar::v1::CreateJobRequest req = Request(m, /*references=*/false);
  req.mutable_spec()->mutable_targets(0)->mutable_fields()->set_sample_field("sample");
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(req, blobs_, 100));
  bool seen = false;
  for (const StoredShard& s : plan.shards) {
    if (s.task.dataset() != "judge") continue;
    seen = true;
    EXPECT_TRUE(s.task.ids_from_outputs());
    EXPECT_EQ(s.task.references().display_name(), "samples.jsonl");
    EXPECT_EQ(s.task.references().sha256(), req.input_digests().at("samples.jsonl"));
    EXPECT_EQ(s.task.reference_rows(), 5);  // distinct ids, not lines
  }
  EXPECT_TRUE(seen);
}

TEST_F(SamplesPlannerTest, OtherMetricsStillNeedReferences) {
  EXPECT_THAT(PlanJob(Request(Metric("accuracy"), false), blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'targets[0].references'"),
                             HasSubstr("only a dataset whose every metric is score"))));
}

TEST_F(SamplesPlannerTest, PowerSettingsAreChecked) {
  emar::v1::CreateJobRequest req = Request(Metric("accuracy"), true);
  req.mutable_spec()->mutable_bootstrap()->set_power(1.5);
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'bootstrap.power'")));
  req.mutable_spec()->mutable_bootstrap()->set_power(0.9);
  req.mutable_spec()->mutable_bootstrap()->set_small_dataset_items(-1);
  EXPECT_THAT(PlanJob(req, blobs_, 100), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("'bootstrap.small_dataset_items'")));
}

}  // namespace
}  // namespace emar
