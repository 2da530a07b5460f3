// Text and JSON renderings of jobs and reports (client/report_format.h), on messages built by
// hand: which lines and keys appear, how undefined values and intervals read.
#include "client/report_format.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/report_flips.h"
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

// A suite's candidate with every kind of row: a target (no Holm p), benchmarks with long and
// short names and metrics, samples (a two-byte "×" in n), an undefined delta, a missing MDE.
emar::v1::CandidateReport MixedSuite() {
  emar::v1::CandidateReport c;
  auto add = [&](const std::string& dataset, const std::string& role, const std::string& metric,
                 bool primary) {
    emar::v1::DatasetComparison* d = c.add_datasets();
    d->set_dataset(dataset);
    d->set_role(role);
    d->set_metric(metric);
    d->set_primary(primary);
    if (primary) d->set_weight(role == "target" ? 1 : 0.25);
    d->set_n(1500);
    d->mutable_base()->set_value(0.7);
    d->mutable_candidate()->set_value(0.72);
    d->mutable_delta()->set_value(0.02);
    d->mutable_delta()->set_ci_low(-0.0011);
    d->mutable_delta()->set_ci_high(0.041);
    d->mutable_delta()->set_p_value(0.0123);
    d->mutable_delta()->set_test(role == "target" ? "mcnemar_exact" : "paired_bootstrap");
    d->set_mde(0.0309);
    return d;
  };
  add("tickets", "target", "accuracy", true);
  add("tickets", "target", "macro_f1", false)->clear_mde();
  emar::v1::DatasetComparison* b =
      add("a-benchmark-with-a-rather-long-name", "benchmark", "rougeLsum|use_stemmer:yes", true);
  b->mutable_delta()->set_p_value_holm(0.049);
  emar::v1::DatasetComparison* s = add("qa", "benchmark", "score", true);
  s->set_n(120);
  s->set_base_samples_per_item(3);
  s->set_candidate_samples_per_item(3);
  s->mutable_delta()->set_p_value_holm(1);
  emar::v1::DatasetComparison* u = add("mt", "benchmark", "bleu", true);
  u->mutable_delta()->Clear();
  u->mutable_delta()->set_undefined_reason("no items");
  u->clear_mde();
  return c;
}

// A line as a terminal shows it: one string per character (UTF-8 sequences kept whole).
std::vector<std::string> Characters(const std::string& line) {
  std::vector<std::string> out;
  for (unsigned char ch : line) {
    if ((ch & 0xC0) == 0x80 && !out.empty()) {
      out.back() += static_cast<char>(ch);
    } else {
      out.emplace_back(1, static_cast<char>(ch));
    }
  }
  return out;
}

TEST(ReportFormatTest, TheSuiteDatasetTableLinesUpEveryColumn) {
  emar::v1::Report r = SmallReport();
  *r.mutable_candidates(0)->mutable_datasets() = MixedSuite().datasets();
  const std::string text = ReportToText(r);
  const size_t at = text.find("  datasets (* primary metric");
  ASSERT_NE(at, std::string::npos) << text;
  std::vector<std::string> lines;
  for (size_t pos = text.find('\n', at) + 1; text.compare(pos, 4, "    ") == 0;) {
    const size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 6u) << text;  // the header and five rows
  std::vector<size_t> starts;           // where each header starts (the header is ASCII)
  size_t from = 0;
  for (const std::string h : {"dataset", "role", "weight", "metric", "n", "base", "candidate",
                              "delta", "interval", "p (test)", "p_holm", "MDE"}) {
    const size_t pos = lines[0].find(" " + h, from);
    ASSERT_NE(pos, std::string::npos) << h << " in " << lines[0];
    starts.push_back(pos + 1);
    from = pos + 1 + h.size();
  }
  // Every row, cut at the header's column starts (in characters), gives cells that each start
  // at their column's start and end in a space before the next, or are empty.
  for (size_t row = 1; row < lines.size(); ++row) {
    const std::vector<std::string> chars = Characters(lines[row]);
    ASSERT_GT(chars.size(), starts.back()) << lines[row];
    for (size_t col = 0; col < starts.size(); ++col) {
      const size_t end = col + 1 < starts.size() ? starts[col + 1] : chars.size();
      std::string cell;
      for (size_t i = starts[col]; i < end; ++i) cell += chars[i];
      EXPECT_EQ(chars[starts[col] - 1], " ") << "column " << col << " of: " << lines[row];
      if (cell.find_first_not_of(' ') == std::string::npos) continue;
      EXPECT_NE(cell[0], ' ') << "column " << col << " starts late in: " << lines[row];
      if (col + 1 < starts.size()) {
        EXPECT_EQ(cell.back(), ' ') << "column " << col << " runs on in: " << lines[row];
      }
    }
    EXPECT_THAT(lines[row], Not(HasSubstr("MDE"))) << "the header says MDE once";
  }
  // Targets have no Holm p, and rows without an MDE or interval keep their places.
  EXPECT_THAT(lines[1], HasSubstr("0.0123 (mcnemar_exact)     -       0.0309"));
  EXPECT_THAT(lines[2], ::testing::EndsWith("(mcnemar_exact)     -       -"));
  EXPECT_THAT(lines[3], HasSubstr("0.0123 (paired_bootstrap)  0.049   0.0309"));
  EXPECT_THAT(lines[4], HasSubstr("120×3"));
  EXPECT_THAT(lines[5], HasSubstr("undefined  -"));
}

TEST(ReportFormatTest, FlipsOfSampledItemsShowTheMeansTheSamplesAndTheFirstSample) {
  emar::v1::FlipItem item;
  item.set_kind("learned");
  item.set_id("h7");
  item.set_metric("score");
  item.set_base_value(2.0 / 3 + 2);
  item.set_candidate_value(11.0 / 3);
  item.set_base_samples(3);
  item.set_candidate_samples(3);
  item.set_base_prediction("Please contact support.");
  item.set_candidate_prediction("Open Settings.");
  EXPECT_EQ(FlipItemText(item),
            "    learned  h7  reference –\n"
            "      base      mean 2.667 of 3 samples; first sample \"Please contact support.\"\n"
            "      candidate mean 3.667 of 3 samples; first sample \"Open Settings.\"\n");
  // One output per item: a judge's grade before the prediction, a 0/1 outcome left out.
  item.set_base_samples(0);
  item.set_candidate_samples(0);
  item.set_base_value(2);
  item.set_candidate_value(4);
  EXPECT_THAT(FlipItemText(item), HasSubstr("base      2 \"Please contact support.\"\n"));
  item.add_references("yes");
  item.set_base_value(0);
  item.set_candidate_value(1);
  EXPECT_EQ(FlipItemText(item),
            "    learned  h7  reference \"yes\"\n"
            "      base      \"Please contact support.\"\n"
            "      candidate \"Open Settings.\"\n");
}

}  // namespace
}  // namespace emar
