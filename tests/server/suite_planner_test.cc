// PlanJob on suites: a shard per (model, dataset, metric, line range) naming its dataset and
// metric, and the checks that need the whole suite (formula names, directions, cost, limits).
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "server/job_planner.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class SuitePlannerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(blobs_.Init()); }

  // tickets (accuracy, macro_f1) -> mmlu (accuracy), wmt (chrf); `rows` rows each, one file of
  // references and one of outputs shared by every dataset and model.
  emar::v1::CreateJobRequest Request(int rows) {
    std::string refs, outs;
    for (int i = 0; i < rows; ++i) {
      absl::StrAppend(&refs, "{\"id\":", i, ",\"reference\":\"a b\"}\n");
      absl::StrAppend(&outs, "{\"id\":", i, ",\"prediction\":\"a\"}\n");
    }
    emar::v1::CreateJobRequest req;
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name("suite");
    s.mutable_base()->set_name("base");
    s.add_candidates()->set_name("cand");
    auto add = [&](bool target, const std::string& name, std::vector<std::string> metrics) {
      emar::v1::DatasetSpec* d = target ? s.add_targets() : s.add_benchmarks();
      d->set_name(name);
      d->set_references("refs.jsonl");
      for (const auto& m : metrics) d->add_metrics()->set_name(m);
      for (auto* model : {s.mutable_base(), s.mutable_candidates(0)}) {
        (*model->mutable_outputs())[name] = "out.jsonl";
      }
    };
    add(true, "tickets", {"accuracy", "macro_f1"});
    add(false, "mmlu", {"accuracy"});
    add(false, "wmt", {"chrf"});
    (*req.mutable_input_digests())["refs.jsonl"] = *blobs_.Put(refs);
    (*req.mutable_input_digests())["out.jsonl"] = *blobs_.Put(outs);
    return req;
  }

  TempDir dir_;
  BlobStore blobs_{dir_.path()};
};

TEST_F(SuitePlannerTest, ShardsCoverEveryModelDatasetAndMetric) {
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(10), blobs_, /*rows_per_shard=*/4));
  // 2 models x 4 (dataset, metric) x 3 ranges (4 + 4 + 2 rows).
  ASSERT_EQ(plan.shards.size(), 24u);
  EXPECT_EQ(plan.request.spec().formula(), "relative_gain");
  EXPECT_EQ(plan.request.spec().benchmarks(1).fields().id_field(), "id");
  EXPECT_FALSE(plan.request.spec().has_target());      // the stored spec keeps its form
  const emar::v1::ShardTask& t = plan.shards[3].task;  // base, tickets, macro_f1, first range
  EXPECT_EQ(t.model(), "base");
  EXPECT_EQ(t.dataset(), "tickets");
  EXPECT_EQ(t.role(), emar::v1::DATASET_ROLE_TARGET);
  EXPECT_EQ(t.metric(), "macro_f1");
  ASSERT_EQ(t.metrics_size(), 1);
  EXPECT_EQ(t.metrics(0).name(), "macro_f1");
  EXPECT_EQ(t.reference_rows(), 10);
  const emar::v1::ShardTask& last = plan.shards.back().task;
  EXPECT_EQ(last.model(), "cand");
  EXPECT_EQ(last.dataset(), "wmt");
  EXPECT_EQ(last.role(), emar::v1::DATASET_ROLE_BENCHMARK);
  int64_t rows = 0;
  for (const StoredShard& s : plan.shards) rows += s.rows;
  EXPECT_EQ(rows, 2 * 4 * 10);
}

TEST_F(SuitePlannerTest, MissingUploadsNameTheModelsDatasetOutputs) {
  emar::v1::CreateJobRequest req = Request(3);
  (*req.mutable_spec()->mutable_candidates(0)->mutable_outputs())["mmlu"] = "missing.jsonl";
  EXPECT_THAT(PlanJob(req, blobs_, 100), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  AllOf(HasSubstr("candidates[0].outputs[mmlu]"),
                                                        HasSubstr("missing.jsonl"))));
}

TEST_F(SuitePlannerTest, FormulaNamesDirectionsAndPresetsAreCheckedAgainstTheSuite) {
  emar::v1::CreateJobRequest req = Request(3);
  req.mutable_spec()->set_formula("dT + dB[arc]");
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'formula'"), HasSubstr("'dB[arc]' names no dataset"))));
  req.mutable_spec()->set_formula("dT + T1[mmlu]");
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'mmlu' is a benchmark dataset"), HasSubstr("B1[mmlu]"))));
  req.mutable_spec()->set_formula("dT + dB[mmlu] - B0[wmt] + T0[tickets]");
  EXPECT_OK(PlanJob(req, blobs_, 100).status());

  // A lower-is-better primary: refused with a preset, and beside a higher-is-better one.
  req = Request(3);
  req.mutable_spec()->mutable_benchmarks(1)->mutable_metrics(0)->set_name("perplexity");
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("preset 'relative_gain'"), HasSubstr("dataset 'wmt'"),
                             HasSubstr("explicit expression"))));
  req.mutable_spec()->set_formula("dT - dB");
  EXPECT_THAT(PlanJob(req, blobs_, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'benchmarks[1].metrics'"), HasSubstr("dataset 'wmt'"),
                             HasSubstr("has no direction"))));
}

TEST_F(SuitePlannerTest, CostCountsEveryMetricAndLimitsComeFromTheCoordinator) {
  // 1000 resamples x 2 models x (2 x 100 + 100 + 100 rows) = 8e5.
  EXPECT_THAT(PlanJob(Request(100), blobs_, 100, kDefaultMaxInputBytes, 7.9e5),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("2 models x 400 examples"), HasSubstr("= 800000"))));
  EXPECT_OK(PlanJob(Request(100), blobs_, 100, kDefaultMaxInputBytes, 8e5).status());
  SuiteLimits limits;
  limits.max_datasets = 2;
  EXPECT_THAT(PlanJob(Request(3), blobs_, 100, kDefaultMaxInputBytes, kDefaultMaxBootstrapWork,
                      nullptr, limits),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max-datasets")));
}

}  // namespace
}  // namespace emar
