// Text and JSON renderings of jobs and reports (client/report_format.h), on messages built by
// hand: which lines and keys appear, how undefined values and intervals read.
#include "client/report_format.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

emar::v1::Job RunningJob() {
  emar::v1::Job job;
  job.set_job_id("job-1");
  job.set_name("sentiment");
  job.set_state(emar::v1::JOB_STATE_RUNNING);
  job.mutable_progress()->set_shards_done(2);
  job.mutable_progress()->set_shards_total(5);
  job.mutable_progress()->set_examples_scored(700);
  return job;
}

TEST(ReportFormatTest, JobTextIsOneLineWithStateProgressLabelsAndError) {
  emar::v1::Job job = RunningJob();
  EXPECT_EQ(JobToText(job), "job-1  RUNNING    sentiment  shards 2/5  examples 700");
  (*job.mutable_labels())["step"] = "500";
  (*job.mutable_labels())["run"] = "exp-42";
  job.mutable_progress()->set_shards_reused(1);
  job.mutable_progress()->set_examples_reused(300);
  job.set_error("worker lost");
  EXPECT_EQ(JobToText(job),
            "job-1  RUNNING    sentiment  shards 2/5  examples 700  (1 shards, 300 examples "
            "reused)  run=exp-42,step=500\n  error: worker lost");
}

TEST(ReportFormatTest, LabelsAreInKeyOrder) {
  google::protobuf::Map<std::string, std::string> labels;
  labels["z"] = "1";
  labels["a"] = "2";
  labels["m"] = "3";
  EXPECT_EQ(LabelsText(labels, ", "), "a=2, m=3, z=1");
  EXPECT_EQ(LabelsText({}, ", "), "");
}

TEST(ReportFormatTest, JsonHasSnakeCaseKeysDefaultsAndOneLineForStreams) {
  emar::v1::Job job = RunningJob();
  const std::string json = JobToJson(job);
  EXPECT_THAT(json, HasSubstr("\"job_id\": \"job-1\""));
  EXPECT_THAT(json, HasSubstr("\"shards_done\": 2"));
  EXPECT_THAT(json, HasSubstr("\"error\": \"\""));  // defaults printed: no missing keys
  EXPECT_THAT(json, Not(HasSubstr("jobId")));
  const std::string line = JobToJson(job, /*one_line=*/true);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_THAT(line, HasSubstr("\"job_id\":\"job-1\""));
}

emar::v1::Report SmallReport() {
  emar::v1::Report r;
  r.set_name("sentiment");
  r.set_job_id("job-1");
  r.mutable_formula()->set_name("relative_gain");
  r.mutable_formula()->set_expression("dT / T0");
  r.mutable_bootstrap()->set_resamples(1000);
  r.mutable_bootstrap()->set_confidence(0.95);
  r.mutable_bootstrap()->set_seed(7);
  emar::v1::CandidateReport* c = r.add_candidates();
  c->set_name("r16");
  c->set_rank(1);
  c->mutable_emar()->set_value(0.5);
  c->mutable_emar()->set_ci_low(0.25);
  c->mutable_emar()->set_ci_high(0.75);
  c->mutable_target()->set_dataset("target.jsonl");
  c->mutable_target()->set_metric("accuracy");
  c->mutable_target()->set_n(4);
  c->mutable_target()->mutable_base()->set_value(0.5);
  c->mutable_target()->mutable_candidate()->set_value(0.75);
  c->mutable_target()->mutable_delta()->set_value(0.25);
  c->mutable_target()->mutable_delta()->set_p_value(0.03);
  c->mutable_target()->mutable_delta()->set_test("mcnemar");
  c->mutable_benchmark()->set_dataset("bench.jsonl");
  c->mutable_benchmark()->set_metric("exact_match");
  c->mutable_benchmark()->mutable_delta()->set_undefined_reason("no items");
  emar::v1::GateResult* g = c->add_gates();
  g->set_gate("min_emar");
  g->set_passed(false);
  g->set_bound("emar.ci_low");
  g->set_bound_value(0.25);
  g->set_threshold(0.3);
  return r;
}

TEST(ReportFormatTest, TextShowsEstimatesIntervalsTestsAndGates) {
  const std::string text = ReportToText(SmallReport());
  EXPECT_THAT(text, HasSubstr("EMAR report: sentiment  (job job-1)\n"));
  EXPECT_THAT(text, HasSubstr("formula: relative_gain = dT / T0\n"));
  EXPECT_THAT(text, HasSubstr("intervals: 95% paired bootstrap, 1000 resamples, seed 7\n"));
  EXPECT_THAT(text, HasSubstr("candidate r16  (rank 1)\n  EMAR      0.5000 [0.2500, 0.7500]\n"));
  EXPECT_THAT(text, HasSubstr("  target    target.jsonl (accuracy, n=4)\n"));
  EXPECT_THAT(text, HasSubstr("    delta     +0.2500  p=0.03 (mcnemar)\n"));
  EXPECT_THAT(text, HasSubstr("  benchmark bench.jsonl (exact_match, n=0)\n"));
  EXPECT_THAT(text, HasSubstr("    base      undefined\n"));
  EXPECT_THAT(text, HasSubstr("gate min_emar"));
  EXPECT_THAT(text, HasSubstr("FAIL  (emar.ci_low = 0.2500, threshold 0.3)"));
  EXPECT_THAT(text, Not(HasSubstr("pairwise")));
}

TEST(ReportFormatTest, AnUndefinedEmarSaysWhy) {
  emar::v1::Report r = SmallReport();
  emar::v1::Estimate* e = r.mutable_candidates(0)->mutable_emar();
  e->Clear();
  e->set_undefined_reason("T0 is 0");
  e->set_undefined_resamples(12);
  EXPECT_THAT(ReportToText(r),
              HasSubstr("  EMAR      undefined  (T0 is 0)  [undefined in 12 resamples]\n"));
  // JSON leaves an undefined value out instead of writing a number.
  EXPECT_THAT(ReportToJson(r), HasSubstr("\"undefined_reason\": \"T0 is 0\""));
}

}  // namespace
}  // namespace emar
