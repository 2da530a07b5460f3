// The coordinator behind real gRPC (in-process channel), with real worker threads and a real
// SQLite store in a temp dir: the report of a job, and every kind of input error.
// coordinator_lifecycle_test.cc has the rest of its life cycle.
#include "server/coordinator.h"

#include <zlib.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/common/gzip.h"
#include "tests/server/coordinator_harness.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::Gzip;
using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CoordinatorTest, SmallJobReportsScoresDeltasAndEmar) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  Harness h(data.path(), 2, /*rows_per_shard=*/2);
  ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(job.Load()));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().shards_total(), 8);  // 4 files of 4 or 3 rows, 2 rows a shard
  EXPECT_EQ(done.progress().examples_scored(), 14);
  ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
  ASSERT_EQ(report.candidates_size(), 1);
  const auto& c = report.candidates(0);
  EXPECT_DOUBLE_EQ(c.target().base().value(), 0.5);        // a, d right
  EXPECT_DOUBLE_EQ(c.target().candidate().value(), 0.75);  // b, c (trimmed), d right
  EXPECT_DOUBLE_EQ(c.target().delta().value(), 0.25);
  EXPECT_DOUBLE_EQ(c.benchmark().base().value(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.benchmark().candidate().value(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(c.emar().value(), 0.25 / 0.5);
  EXPECT_EQ(c.target().n(), 4);
  EXPECT_EQ(c.benchmark().n(), 3);
  EXPECT_EQ(report.formula().expression(), "(T1 - T0) / T0");
  EXPECT_EQ(report.provenance().inputs_size(), 6);
  EXPECT_EQ(report.provenance().inputs(0).sha256(), *Sha256OfFile(inputs.path() + "/t.jsonl"));
}

TEST(CoordinatorTest, ReportDoesNotDependOnShardSizeOrWorkerCount) {
  TempDir inputs;
  SmallJob job(inputs.path());
  std::string first;
  for (auto [workers, rows] : {std::pair{1, 1}, std::pair{3, 2}, std::pair{2, 100}}) {
    TempDir data;
    Harness h(data.path(), workers, rows);
    ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(job.Load()));
    ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
    report.clear_job_id();
    if (first.empty()) {
      first = report.SerializeAsString();
    } else {
      EXPECT_EQ(report.SerializeAsString(), first) << "workers=" << workers << " rows=" << rows;
    }
  }
}

TEST(CoordinatorTest, ReportCarriesIntervalsTestsRanksAndGates) {
  TempDir data, inputs;
  SmallJob job(inputs.path());
  // A second candidate that is right everywhere on the target and keeps the benchmark.
  Write(inputs.path() + "/best.t.jsonl",
        "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"neg\"}\n"
        "{\"id\": \"c\", \"prediction\": \"pos\"}\n{\"id\": \"d\", \"prediction\": \"neg\"}\n");
  std::string yaml = job.yaml;
  yaml.replace(yaml.find("formula:"), 0,
               "  - {name: best, target_outputs: best.t.jsonl, benchmark_outputs: base.b.jsonl}\n"
               "gates: {min_emar: 0.2, max_benchmark_regression: 0.5}\n");
  ASSERT_OK_AND_ASSIGN(JobFile file,
                       ParseJobFile(yaml, inputs.path() + "/job.yaml", inputs.path()));
  Harness h(data.path(), 2);
  ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(file));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
  ASSERT_EQ(report.candidates_size(), 2);
  const auto& cand = report.candidates(0);
  const auto& best = report.candidates(1);
  EXPECT_DOUBLE_EQ(best.emar().value(), 1.0);  // (1 - 0.5) / 0.5
  EXPECT_EQ(best.rank(), 1);
  EXPECT_EQ(cand.rank(), 2);
  for (const auto* e : {&best.target().delta(), &cand.target().base(), &cand.target().delta(),
                        &cand.benchmark().delta()}) {
    ASSERT_TRUE(e->has_ci_low() && e->has_ci_high());
    EXPECT_LE(e->ci_low(), e->value());
    EXPECT_GE(e->ci_high(), e->value());
  }
  // T0 = 0 in every resample that draws only the two items the base got wrong: (2/4)^4 = 6.25 %
  // of resamples, more than the 5 % a 95 % interval may lose, so "cand"'s EMAR honestly has none.
  EXPECT_GT(cand.emar().undefined_resamples(), 50);
  EXPECT_LT(cand.emar().undefined_resamples(), 100);
  EXPECT_FALSE(cand.emar().has_ci_low());
  // Paired: both candidates see the same resampled base, so the same resamples are undefined.
  EXPECT_EQ(best.emar().undefined_resamples(), cand.emar().undefined_resamples());
  EXPECT_EQ(cand.target().delta().test(), "mcnemar_exact");  // accuracy is 0/1
  EXPECT_TRUE(cand.target().delta().has_p_value());
  ASSERT_EQ(report.pairwise_size(), 1);
  EXPECT_EQ(report.pairwise(0).a(), "cand");
  EXPECT_EQ(report.pairwise(0).b(), "best");
  EXPECT_TRUE(report.pairwise(0).has_p_value_holm());
  // Gates use interval bounds: with four items the intervals are wide, so "cand" fails min_emar.
  ASSERT_EQ(cand.gates_size(), 2);
  EXPECT_EQ(cand.gates(0).gate(), "min_emar");
  EXPECT_EQ(cand.gates(0).bound(), "emar.ci_low");
  EXPECT_FALSE(cand.gates(0).passed());  // no lower bound: the gate cannot pass
  EXPECT_THAT(cand.gates(0).detail(), HasSubstr("undefined"));
  EXPECT_EQ(cand.gates(1).bound(), "benchmark.delta.ci_low");
  EXPECT_EQ(cand.gates(1).passed(), cand.benchmark().delta().ci_low() >= -0.5);
  EXPECT_EQ(report.gates_passed(), cand.gates_passed() && best.gates_passed());
  EXPECT_EQ(report.bootstrap().resamples(), 1000);
  EXPECT_EQ(report.bootstrap().seed(), 12345u);
}

TEST(CoordinatorTest, NonBinaryMetricsGetTheConfiguredPairedTest) {
  TempDir inputs;
  SmallJob job(inputs.path());
  for (const char* test : {"paired_bootstrap", "approximate_randomization"}) {
    SCOPED_TRACE(test);
    std::string yaml = job.yaml;
    yaml.replace(yaml.find("metric: exact_match"), std::string("metric: exact_match").size(),
                 "metric: token_f1");
    yaml += absl::StrCat("bootstrap: {test: ", test, ", ar_trials: 2000}\n");
    ASSERT_OK_AND_ASSIGN(JobFile file,
                         ParseJobFile(yaml, inputs.path() + "/job.yaml", inputs.path()));
    TempDir data;
    Harness h(data.path(), 2);
    ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(file));
    ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
    ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
    const auto& c = report.candidates(0);
    EXPECT_EQ(c.target().delta().test(), "mcnemar_exact");  // accuracy stays 0/1
    EXPECT_EQ(c.benchmark().delta().test(), std::string(test) == "paired_bootstrap"
                                                ? "paired_bootstrap"
                                                : "paired_approximate_randomization");
    ASSERT_TRUE(c.benchmark().delta().has_p_value());
    EXPECT_GT(c.benchmark().delta().p_value(), 0.0);
    EXPECT_LE(c.benchmark().delta().p_value(), 1.0);
  }
  TempDir data;
  Harness h(data.path(), 0);
  JobFile bad = job.Load();
  bad.spec.mutable_bootstrap()->set_test("t_test");
  EXPECT_THAT(h.client().Submit(bad, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bootstrap.test")));
}

TEST(CoordinatorTest, GzippedInputsGiveTheSameReport) {
  TempDir plain_inputs, gz_inputs;
  SmallJob plain(plain_inputs.path());
  SmallJob gz(gz_inputs.path());
  for (const char* f : {"t.jsonl", "cand.t.jsonl"}) {  // a references file and an outputs file
    ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(gz_inputs.path() + "/" + f));
    Write(gz_inputs.path() + "/" + f, Gzip(text));
  }
  std::string reports[2];
  for (int i = 0; i < 2; ++i) {
    TempDir data;
    Harness h(data.path(), 2, /*rows_per_shard=*/2);
    ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd((i == 0 ? plain : gz).Load()));
    ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
    ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
    report.clear_job_id();
    report.clear_provenance();  // the digests are of the files as uploaded, so they differ
    reports[i] = report.SerializeAsString();
  }
  EXPECT_EQ(reports[0], reports[1]);
}

TEST(CoordinatorTest, HarnessSampleLogsLoadThroughConfiguredFields) {
  // lm-evaluation-harness samples_*.jsonl carry the gold label and the response in one line:
  // the base model's samples file serves as the target references and as the base's outputs.
  TempDir data, inputs;
  SmallJob job(inputs.path());
  ASSERT_OK_AND_ASSIGN(std::string samples, ReadFileToString(std::string(EMAR_TESTDATA_DIR) +
                                                             "/input/lm_eval_samples.jsonl"));
  Write(inputs.path() + "/samples_base.jsonl", samples);
  Write(inputs.path() + "/samples_cand.jsonl",
        "{\"doc_id\": 3, \"filtered_resps\": [\"3\"]}\n{\"doc_id\": 2, \"filtered_resps\": "
        "[\"neutral\"]}\n"
        "{\"doc_id\": 1, \"filtered_resps\": [\"positive\"]}\n{\"doc_id\": 0, \"filtered_resps\": "
        "[\"negative\"]}\n");
  std::string yaml = job.yaml;
  yaml.replace(yaml.find("target:"), yaml.find("benchmark:") - yaml.find("target:"),
               "target: {name: sst, references: samples_base.jsonl, metric: accuracy,\n"
               "         fields: {id_field: doc_id, reference_field: target, prediction_field: "
               "filtered_resps.0}}\n");
  yaml.replace(yaml.find("target_outputs: base.t.jsonl"),
               std::string("target_outputs: base.t.jsonl").size(),
               "target_outputs: samples_base.jsonl");
  yaml.replace(yaml.find("target_outputs: cand.t.jsonl"),
               std::string("target_outputs: cand.t.jsonl").size(),
               "target_outputs: samples_cand.jsonl");
  ASSERT_OK_AND_ASSIGN(JobFile file,
                       ParseJobFile(yaml, inputs.path() + "/job.yaml", inputs.path()));
  Harness h(data.path(), 2);
  ASSERT_OK_AND_ASSIGN(auto done, h.RunToEnd(file));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto report, h.client().GetReport(done.job_id()));
  const auto& t = report.candidates(0).target();
  EXPECT_EQ(t.n(), 4);
  // Base: rows 0 and 1 right; " positive" is not "neutral"; the string "3.0" is not the label 3.
  EXPECT_DOUBLE_EQ(t.base().value(), 0.5);
  EXPECT_DOUBLE_EQ(t.candidate().value(), 1.0);  // the string "3" matches the number 3
}

struct BadCase {
  const char* name;
  const char* file;     // file to overwrite
  const char* content;  // new content
  const char* message;  // expected in the error
  bool at_create;       // rejected by CreateJob (else the job fails)
};

class CoordinatorBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(CoordinatorBadInputTest, FailsPreciselyAndServerKeepsServing) {
  const BadCase& bc = GetParam();
  TempDir data, inputs, good_inputs;
  SmallJob job(inputs.path());
  SmallJob good(good_inputs.path());
  Write(inputs.path() + "/" + bc.file, bc.content);
  Harness h(data.path(), 2);
  auto created = h.client().Submit(job.Load(), "");
  if (bc.at_create) {
    EXPECT_THAT(created, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bc.message)));
  } else {
    ASSERT_OK(created.status());
    ASSERT_OK_AND_ASSIGN(auto done, h.client().Watch(created->job_id(), nullptr));
    EXPECT_EQ(done.state(), emar::v1::JOB_STATE_FAILED);
    EXPECT_THAT(done.error(), HasSubstr(bc.message));
    EXPECT_THAT(h.client().GetReport(done.job_id()),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(bc.message)));
  }
  // Another job on the same coordinator is unharmed.
  ASSERT_OK_AND_ASSIGN(auto ok, h.RunToEnd(good.Load()));
  EXPECT_EQ(ok.state(), emar::v1::JOB_STATE_SUCCEEDED) << ok.error();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CoordinatorBadInputTest,
    ::testing::Values(
        BadCase{"malformed_output_line", "cand.t.jsonl",
                "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \n", "cand.t.jsonl:2",
                false},
        BadCase{"malformed_reference_line", "t.jsonl",
                "{\"id\": \"a\", \"reference\": \"pos\"}\nnot json\n", "t.jsonl:2", true},
        BadCase{"missing_id_in_outputs", "base.t.jsonl",
                "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"prediction\": \"x\"}\n",
                "base.t.jsonl:2", false},
        BadCase{"missing_id_in_references", "t.jsonl", "{\"reference\": \"pos\"}\n", "t.jsonl:1",
                true},
        BadCase{
            "duplicate_reference_id", "t.jsonl",
            "{\"id\": \"a\", \"reference\": \"pos\"}\n{\"id\": \"a\", \"reference\": \"neg\"}\n",
            "duplicate id 'a'", true},
        BadCase{
            "duplicate_prediction_id", "base.t.jsonl",
            "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"pos\"}\n"
            "{\"id\": \"c\", \"prediction\": \"pos\"}\n{\"id\": \"d\", \"prediction\": \"pos\"}\n"
            "{\"id\": \"a\", \"prediction\": \"neg\"}\n",
            "base.t.jsonl:5: duplicate id 'a' (first at line 1)", false},
        BadCase{"unknown_prediction_id", "cand.b.jsonl",
                "{\"id\": 1, \"prediction\": \"x\"}\n{\"id\": 2, \"prediction\": \"x\"}\n{\"id\": "
                "3, \"prediction\": \"x\"}\n"
                "{\"id\": 99, \"prediction\": \"x\"}\n",
                "cand.b.jsonl:4: field 'id': unknown id '99'", false},
        BadCase{
            "missing_prediction", "cand.t.jsonl",
            "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"pos\"}\n"
            "{\"id\": \"d\", \"prediction\": \"pos\"}\n",
            "cand.t.jsonl: missing prediction for id 'c' (t.jsonl:3)", false},
        BadCase{"empty_outputs", "base.b.jsonl", "", "base.b.jsonl: empty file", true},
        BadCase{"empty_references", "b.jsonl", "\n\n", "b.jsonl", true}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace emar
