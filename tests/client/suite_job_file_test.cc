// Suite job files: `targets`/`benchmarks` lists, metrics as names or objects (a name is read as
// `{name: ...}`), outputs per dataset, and errors naming file and line.
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "client/job_file.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/process.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSuite[] = R"(name: forgetting
targets:
  - {name: tickets, references: data/tickets.jsonl, metrics: [accuracy, macro_f1]}
benchmarks:
  - {name: mmlu,  references: bench/mmlu.jsonl,  metrics: accuracy}
  - {name: gsm8k, references: bench/gsm8k.jsonl, metrics: [exact_match], weight: 2}
  - name: wmt
    references: bench/wmt.jsonl
    metrics:
      - {name: bleu, tokenize: intl}
      - chrf
    gates: {max_benchmark_regression: 0.05}
base: {name: base, outputs: {tickets: out/b.t.jsonl, mmlu: out/b.m.jsonl, gsm8k: out/b.g.jsonl,
                             wmt: out/b.w.jsonl}}
candidates:
  - {name: r16, outputs: {tickets: out/c.t.jsonl, mmlu: out/c.m.jsonl, gsm8k: out/c.g.jsonl,
                          wmt: out/b.w.jsonl}}
gates: {min_emar: 0.1, max_benchmark_regression: 0.02, max_suite_regression: 0.01}
)";

TEST(SuiteJobFileTest, MetricNamesAreReadAsObjectsAndOutputsPerDataset) {
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(kSuite, "suite.yaml", "/jobs"));
  const emar::v1::JobSpec& s = job.spec;
  ASSERT_EQ(s.targets_size(), 1);
  ASSERT_EQ(s.benchmarks_size(), 3);
  EXPECT_EQ(s.targets(0).metrics(1).name(), "macro_f1");
  ASSERT_EQ(s.benchmarks(0).metrics_size(), 1);  // `metrics: accuracy` is a list of one
  EXPECT_EQ(s.benchmarks(0).metrics(0).name(), "accuracy");
  EXPECT_EQ(s.benchmarks(1).weight(), 2);
  EXPECT_EQ(s.benchmarks(2).metrics(0).name(), "bleu");
  EXPECT_EQ(s.benchmarks(2).metrics(0).tokenize(), "intl");
  EXPECT_EQ(s.benchmarks(2).metrics(1).name(), "chrf");
  EXPECT_EQ(s.benchmarks(2).gates().max_benchmark_regression(), 0.05);
  EXPECT_EQ(s.gates().max_suite_regression(), 0.01);
  EXPECT_EQ(s.candidates(0).outputs().at("gsm8k"), "out/c.g.jsonl");
  // Every distinct path once, in spec order, resolved against the job's directory.
  std::vector<std::string> fields;
  for (const JobFileInput& in : job.inputs) fields.push_back(in.field);
  EXPECT_THAT(
      fields,
      ElementsAre("targets[0].references", "benchmarks[0].references", "benchmarks[1].references",
                  "benchmarks[2].references", "base.outputs[tickets]", "base.outputs[mmlu]",
                  "base.outputs[gsm8k]", "base.outputs[wmt]", "candidates[0].outputs[tickets]",
                  "candidates[0].outputs[mmlu]", "candidates[0].outputs[gsm8k]"));
  EXPECT_EQ(job.inputs[1].local_path, "/jobs/bench/mmlu.jsonl");
}

TEST(SuiteJobFileTest, TheOlderFormIsReadAsBefore) {
  constexpr char kOlder[] = R"(name: x
target: {name: t, references: t.jsonl, metric: accuracy}
benchmark: {name: b, references: b.jsonl, metrics: [exact_match]}
base: {name: base, target_outputs: bt.jsonl, benchmark_outputs: bb.jsonl}
candidates: [{name: c, target_outputs: ct.jsonl, benchmark_outputs: cb.jsonl}]
)";
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(kOlder, "older.yaml", "."));
  EXPECT_EQ(job.spec.target().metric(), "accuracy");
  EXPECT_EQ(job.spec.target().metrics_size(), 0);
  EXPECT_EQ(job.spec.benchmark().metrics(0).name(), "exact_match");
  EXPECT_EQ(job.inputs.size(), 6u);
}

TEST(SuiteJobFileTest, BadMetricEntriesAreErrorsNamingFileAndLine) {
  const std::string nested = R"(name: x
targets:
  - name: t
    metrics:
      - [accuracy]
)";
  EXPECT_THAT(ParseJobFile(nested, "bad.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.yaml:5:9: a `metrics` entry is a metric name or an object")));
  const std::string map = "name: x\nbenchmarks: [{name: b, metrics: {name: bleu}}]\n";
  EXPECT_THAT(ParseJobFile(map, "bad.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.yaml:2:33: `metrics` is a list")));
  const std::string unknown_option =
      "name: x\ntargets: [{name: t, metrics: [{name: bleu, colour: red}]}]\n";
  EXPECT_THAT(ParseJobFile(unknown_option, "bad.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("colour")));
}

}  // namespace
}  // namespace emar
