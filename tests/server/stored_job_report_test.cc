// Tests of BuildStoredJobReport on a real JobStore (SQLite) and BlobStore in a temporary dir.
#include "server/stored_job_report.h"

#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status_matchers.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "eval/job/shard_scorer.h"
#include "eval/metrics/metric_registry.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/job_planner.h"
#include "server/report_builder.h"
#include "server/result_assembler.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

constexpr char kJobId[] = "job-1";

// Target references: the blank third line makes row 2 ('c') line 4.
constexpr char kTargetRefs[] =
    "{\"id\":\"a\",\"reference\":\"pos\"}\n"
    "{\"id\":\"b\",\"reference\":\"neg\"}\n"
    "\n"
    "{\"id\":\"c\",\"reference\":\"pos\"}\n"
    "{\"id\":\"d\",\"reference\":\"neg\"}\n";
constexpr char kBenchmarkRefs[] =
    "{\"id\":\"x\",\"reference\":\"yes\"}\n"
    "{\"id\":\"y\",\"reference\":\"no\"}\n"
    "{\"id\":\"z\",\"reference\":\"yes\"}\n";

// Outputs in an order of their own. Correct (1) or not (0), in references order:
//   base  target a1 b0 c0 d1 -> T0 = 0.5     cand target a1 b1 c1 d0 -> T1 = 0.75
//   base  bench  x1 y0 z1    -> B0 = 2/3     cand bench  x1 y1 z0    -> B1 = 2/3
constexpr char kBaseTarget[] =
    "{\"id\":\"d\",\"prediction\":\"neg\"}\n"
    "{\"id\":\"a\",\"prediction\":\"pos\"}\n"
    "{\"id\":\"c\",\"prediction\":\"neg\"}\n"
    "{\"id\":\"b\",\"prediction\":\"pos\"}\n";
constexpr char kCandTarget[] =
    "{\"id\":\"a\",\"prediction\":\"pos\"}\n"
    "{\"id\":\"b\",\"prediction\":\"neg\"}\n"
    "{\"id\":\"c\",\"prediction\":\"pos\"}\n"
    "{\"id\":\"d\",\"prediction\":\"pos\"}\n";
constexpr char kBaseBenchmark[] =
    "{\"id\":\"z\",\"prediction\":\"yes\"}\n"
    "{\"id\":\"x\",\"prediction\":\"yes\"}\n"
    "{\"id\":\"y\",\"prediction\":\"yes\"}\n";
constexpr char kCandBenchmark[] =
    "{\"id\":\"x\",\"prediction\":\"yes\"}\n"
    "{\"id\":\"y\",\"prediction\":\"no\"}\n"
    "{\"id\":\"z\",\"prediction\":\"no\"}\n";

// What a worker does with a leased shard: the real scorer on the shard's byte range.
absl::StatusOr<emar::v1::ShardResult> ScoreLikeAWorker(const emar::v1::ShardTask& task,
                                                       const BlobStore& blobs) {
  ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetric(task.metric()));
  ASSIGN_OR_RETURN(std::string refs_data, blobs.Read(task.references().sha256(), 0, -1));
  ASSIGN_OR_RETURN(ReferenceTable refs,
                   ReferenceTable::Parse(task.references().display_name(), refs_data,
                                         ToFieldConfig(task.fields())));
  ASSIGN_OR_RETURN(std::string outputs, blobs.Read(task.outputs().sha256(), task.outputs().offset(),
                                                   task.outputs().length()));
  return ScoreShard(task, outputs, refs, *metric);
}

class StoredJobReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_OK(blobs_.Init());
    ASSERT_OK_AND_ASSIGN(store_, JobStore::Open(dir_.path() + "/jobs.db"));
    files_ = {{"t_refs.jsonl", kTargetRefs}, {"b_refs.jsonl", kBenchmarkRefs},
              {"base_t.jsonl", kBaseTarget}, {"base_b.jsonl", kBaseBenchmark},
              {"cand_t.jsonl", kCandTarget}, {"cand_b.jsonl", kCandBenchmark}};
  }

  // Plans the job from files_ (two output lines a shard), stores it, scores every shard and
  // records the results last shard first, as workers finishing out of order would.
  void CreateAndScoreJob() {
    emar::v1::CreateJobRequest req;
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name("stored");
    s.mutable_target()->set_name("sentiment");
    s.mutable_target()->set_references("t_refs.jsonl");
    s.mutable_target()->set_metric("accuracy");
    s.mutable_benchmark()->set_name("general");
    s.mutable_benchmark()->set_references("b_refs.jsonl");
    s.mutable_benchmark()->set_metric("accuracy");
    s.mutable_base()->set_name("base");
    s.mutable_base()->set_target_outputs("base_t.jsonl");
    s.mutable_base()->set_benchmark_outputs("base_b.jsonl");
    emar::v1::ModelSpec* c = s.add_candidates();
    c->set_name("cand");
    c->set_target_outputs("cand_t.jsonl");
    c->set_benchmark_outputs("cand_b.jsonl");
    s.mutable_gates()->set_min_target_gain(-1);
    for (const auto& [path, content] : files_) {
      ASSERT_OK_AND_ASSIGN(std::string sha, blobs_.Put(content));
      (*req.mutable_input_digests())[path] = sha;
    }
    ASSERT_OK_AND_ASSIGN(plan_, PlanJob(req, blobs_, /*rows_per_shard=*/2));
    ASSERT_GT(plan_.shards.size(), 4u);  // some output files span two shards
    emar::v1::Job job;
    job.set_job_id(kJobId);
    job.set_name("stored");
    job.set_state(emar::v1::JOB_STATE_RUNNING);
    for (StoredShard& shard : plan_.shards) shard.task.set_job_id(kJobId);
    ASSERT_OK(store_->CreateJob(job, plan_.request, plan_.shards));
    for (auto it = plan_.shards.rbegin(); it != plan_.shards.rend(); ++it) {
      ASSERT_OK_AND_ASSIGN(emar::v1::ShardResult result, ScoreLikeAWorker(it->task, blobs_));
      ASSERT_OK_AND_ASSIGN(bool fresh,
                           store_->RecordShardResult(kJobId, it->task.shard_id(), result));
      ASSERT_TRUE(fresh);
    }
  }

  // The sha256 the request recorded for `path`.
  std::string DigestOf(const std::string& path) { return plan_.request.input_digests().at(path); }

  TempDir dir_;
  BlobStore blobs_{dir_.path()};
  std::unique_ptr<JobStore> store_;
  std::map<std::string, std::string> files_;
  JobPlan plan_;
};

DatasetResults Dataset(const emar::v1::DatasetSpec& spec, std::vector<std::vector<double>> rows) {
  DatasetResults d;
  d.spec = &spec;
  d.metric = *MakeMetric(spec.metric());
  d.metric_spec.set_name(spec.metric());
  d.n = rows[0].size();
  d.systems = std::move(rows);
  return d;
}

TEST_F(StoredJobReportTest, ReportEqualsBuildReportOnTheHandAssembledRows) {
  ASSERT_NO_FATAL_FAILURE(CreateAndScoreJob());
  ASSERT_OK_AND_ASSIGN(emar::v1::Report got, BuildStoredJobReport(kJobId, *store_, blobs_));

  // The same report from rows written down by hand from the files above.
  const emar::v1::CreateJobRequest& req = plan_.request;
  AssembledResults rows;
  rows.results.push_back(Dataset(req.spec().target(), {{1, 0, 0, 1}, {1, 1, 1, 0}}));
  rows.results.push_back(Dataset(req.spec().benchmark(), {{1, 0, 1}, {1, 1, 0}}));
  rows.results[1].dataset = 1;
  std::vector<emar::v1::InputFile> inputs = DescribeInputs(req);
  for (emar::v1::InputFile& f : inputs) {
    f.set_size_bytes(static_cast<int64_t>(files_.at(f.path_or_name()).size()));
  }
  ASSERT_OK_AND_ASSIGN(emar::v1::Report want, BuildReport(kJobId, req, rows, inputs));

  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(want, got)) << diff;

  // And the numbers are the ones worked out by hand.
  ASSERT_EQ(got.candidates_size(), 1);
  const emar::v1::CandidateReport& c = got.candidates(0);
  EXPECT_EQ(got.job_id(), kJobId);
  EXPECT_THAT(c.target().base().value(), DoubleNear(0.5, 1e-12));
  EXPECT_THAT(c.target().candidate().value(), DoubleNear(0.75, 1e-12));
  EXPECT_THAT(c.benchmark().base().value(), DoubleNear(2.0 / 3, 1e-12));
  EXPECT_THAT(c.benchmark().candidate().value(), DoubleNear(2.0 / 3, 1e-12));
  EXPECT_THAT(c.emar().value(), DoubleNear(0.5, 1e-12));  // (0.75 - 0.5) / 0.5
  ASSERT_EQ(got.provenance().inputs_size(), 6);
  EXPECT_EQ(got.provenance().inputs(0).role(), "target.references");
  EXPECT_EQ(got.provenance().inputs(0).sha256(), DigestOf("t_refs.jsonl"));
  EXPECT_EQ(got.provenance().inputs(0).size_bytes(), static_cast<int64_t>(sizeof(kTargetRefs) - 1));
}

TEST_F(StoredJobReportTest, HappyPathDoesNotReadTheReferences) {
  ASSERT_NO_FATAL_FAILURE(CreateAndScoreJob());
  // With both references blobs gone the report still builds; only their sizes are unknown.
  for (const char* refs : {"t_refs.jsonl", "b_refs.jsonl"}) {
    ASSERT_EQ(::unlink(blobs_.PathOf(DigestOf(refs)).c_str()), 0) << refs;
  }
  ASSERT_OK_AND_ASSIGN(emar::v1::Report got, BuildStoredJobReport(kJobId, *store_, blobs_));
  EXPECT_THAT(got.candidates(0).target().candidate().value(), DoubleNear(0.75, 1e-12));
  ASSERT_EQ(got.provenance().inputs_size(), 6);
  EXPECT_EQ(got.provenance().inputs(0).size_bytes(), 0);
  EXPECT_EQ(got.provenance().inputs(1).size_bytes(), 0);
  EXPECT_EQ(got.provenance().inputs(2).size_bytes(), static_cast<int64_t>(sizeof(kBaseTarget) - 1));
}

TEST_F(StoredJobReportTest, UnknownJobIsNotFound) {
  EXPECT_THAT(BuildStoredJobReport("nope", *store_, blobs_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
}

TEST_F(StoredJobReportTest, UnansweredReferenceNamesReferencesFileLineAndId) {
  // The candidate never answers 'c' (row 2, line 4 of t_refs.jsonl).
  files_["cand_t.jsonl"] =
      "{\"id\":\"a\",\"prediction\":\"pos\"}\n"
      "{\"id\":\"b\",\"prediction\":\"neg\"}\n"
      "{\"id\":\"d\",\"prediction\":\"pos\"}\n";
  ASSERT_NO_FATAL_FAILURE(CreateAndScoreJob());
  EXPECT_THAT(BuildStoredJobReport(kJobId, *store_, blobs_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cand_t.jsonl: missing prediction for id 'c' "
                                 "(t_refs.jsonl:4)")));
}

TEST_F(StoredJobReportTest, IdAnsweredInTwoShardsNamesBothLines) {
  // 'a' on line 1 (first shard) and line 3 (second shard); each shard alone is fine.
  files_["base_t.jsonl"] =
      "{\"id\":\"a\",\"prediction\":\"pos\"}\n"
      "{\"id\":\"b\",\"prediction\":\"pos\"}\n"
      "{\"id\":\"a\",\"prediction\":\"neg\"}\n"
      "{\"id\":\"c\",\"prediction\":\"neg\"}\n";
  ASSERT_NO_FATAL_FAILURE(CreateAndScoreJob());
  EXPECT_THAT(
      BuildStoredJobReport(kJobId, *store_, blobs_),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("base_t.jsonl:3: duplicate id 'a'"), HasSubstr("first at line 1"))));
}

TEST_F(StoredJobReportTest, UnansweredReferenceFallsBackToRowWhenReferencesAreGone) {
  files_["cand_t.jsonl"] =
      "{\"id\":\"a\",\"prediction\":\"pos\"}\n"
      "{\"id\":\"b\",\"prediction\":\"neg\"}\n"
      "{\"id\":\"d\",\"prediction\":\"pos\"}\n";
  ASSERT_NO_FATAL_FAILURE(CreateAndScoreJob());
  ASSERT_EQ(::unlink(blobs_.PathOf(DigestOf("t_refs.jsonl")).c_str()), 0);
  EXPECT_THAT(BuildStoredJobReport(kJobId, *store_, blobs_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cand_t.jsonl: missing prediction for reference row 3")));
}

}  // namespace
}  // namespace emar
