// SuiteDatasets (both spec forms as one list of datasets), ValidateSuite's messages, the metric
// entry -> scorer step, and the job's inputs for a suite.
#include "eval/job/suite.h"

#include "common/status_matchers.h"
#include "eval/job/job_defaults.h"
#include "eval/job/job_inputs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

emar::v1::JobSpec OlderForm() {
  emar::v1::JobSpec spec;
  spec.mutable_target()->set_name("reviews");
  spec.mutable_target()->set_references("t.jsonl");
  spec.mutable_target()->set_metric("accuracy");
  spec.mutable_benchmark()->set_name("qa");
  spec.mutable_benchmark()->set_references("b.jsonl");
  spec.mutable_benchmark()->set_metric("exact_match");
  spec.mutable_base()->set_name("base");
  spec.mutable_base()->set_target_outputs("base.t.jsonl");
  spec.mutable_base()->set_benchmark_outputs("base.b.jsonl");
  emar::v1::ModelSpec* c = spec.add_candidates();
  c->set_name("lora");
  c->set_target_outputs("lora.t.jsonl");
  c->set_benchmark_outputs("lora.b.jsonl");
  return spec;
}

emar::v1::DatasetSpec* AddDataset(emar::v1::JobSpec& spec, bool target, const std::string& name,
                                  std::vector<std::string> metrics) {
  emar::v1::DatasetSpec* d = target ? spec.add_targets() : spec.add_benchmarks();
  d->set_name(name);
  d->set_references(name + ".jsonl");
  for (const std::string& m : metrics) d->add_metrics()->set_name(m);
  for (emar::v1::ModelSpec* model : {spec.mutable_base(), spec.mutable_candidates(0)}) {
    (*model->mutable_outputs())[name] = model->name() + "." + name + ".jsonl";
  }
  return d;
}

// tickets (accuracy, macro_f1) as the target; mmlu (accuracy), gsm8k (exact_match, weight 2).
emar::v1::JobSpec Suite() {
  emar::v1::JobSpec spec;
  spec.mutable_base()->set_name("base");
  spec.add_candidates()->set_name("lora");
  AddDataset(spec, true, "tickets", {"accuracy", "macro_f1"});
  AddDataset(spec, false, "mmlu", {"accuracy"});
  AddDataset(spec, false, "gsm8k", {"exact_match"})->set_weight(2);
  return spec;
}

TEST(SuiteTest, TheOlderFormIsASuiteOfOneTargetAndOneBenchmark) {
  const emar::v1::JobSpec spec = OlderForm();
  ASSERT_OK(ValidateSuite(spec, SuiteLimits()));
  EXPECT_FALSE(IsSuiteForm(spec));
  const std::vector<SuiteDataset> d = SuiteDatasets(spec);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].spec, &spec.target());
  EXPECT_EQ(d[0].role, emar::v1::DATASET_ROLE_TARGET);
  EXPECT_EQ(d[0].field, "target");
  ASSERT_EQ(d[0].metrics.size(), 1u);
  EXPECT_EQ(d[0].metrics[0].name(), "accuracy");
  EXPECT_EQ(d[0].weight, 1);
  EXPECT_EQ(d[1].index, 1);
  EXPECT_EQ(d[1].metrics[0].name(), "exact_match");
  EXPECT_EQ(OutputsOf(spec.candidates(0), d[1]), "lora.b.jsonl");
  EXPECT_EQ(OutputsField("candidates[0]", d[1]), "candidates[0].benchmark_outputs");
}

TEST(SuiteTest, SuiteDatasetsListTargetsThenBenchmarksWithMetricsAndWeights) {
  const emar::v1::JobSpec spec = Suite();
  ASSERT_OK(ValidateSuite(spec, SuiteLimits()));
  EXPECT_TRUE(IsSuiteForm(spec));
  const std::vector<SuiteDataset> d = SuiteDatasets(spec);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].field, "targets[0]");
  EXPECT_EQ(d[0].metrics.size(), 2u);
  EXPECT_EQ(d[2].field, "benchmarks[1]");
  EXPECT_EQ(d[2].index, 2);
  EXPECT_EQ(d[2].weight, 2);
  EXPECT_EQ(OutputsOf(spec.base(), d[2]), "base.gsm8k.jsonl");
  EXPECT_EQ(OutputsField("base", d[2]), "base.outputs[gsm8k]");
}

TEST(SuiteTest, JobInputsOfASuiteNameEveryDatasetAndModel) {
  const std::vector<JobInput> in = ListJobInputs(Suite());
  std::vector<std::string> fields, roles;
  for (const JobInput& i : in) {
    fields.push_back(i.field);
    roles.push_back(i.report_role);
  }
  EXPECT_THAT(fields,
              ElementsAre("targets[0].references", "benchmarks[0].references",
                          "benchmarks[1].references", "base.outputs[tickets]", "base.outputs[mmlu]",
                          "base.outputs[gsm8k]", "candidates[0].outputs[tickets]",
                          "candidates[0].outputs[mmlu]", "candidates[0].outputs[gsm8k]"));
  EXPECT_THAT(roles,
              ElementsAre("tickets.references", "mmlu.references", "gsm8k.references",
                          "base.outputs[tickets]", "base.outputs[mmlu]", "base.outputs[gsm8k]",
                          "lora.outputs[tickets]", "lora.outputs[mmlu]", "lora.outputs[gsm8k]"));
  EXPECT_EQ(in[5].dataset_index, 2);
  EXPECT_EQ(in[5].dataset, emar::v1::DATASET_ROLE_BENCHMARK);
}

TEST(SuiteTest, DefaultsFillEverySuiteDatasetsFieldNamesAndLeaveTheOlderFieldsAlone) {
  emar::v1::JobSpec spec = Suite();
  ApplyJobDefaults(spec);
  EXPECT_EQ(spec.benchmarks(1).fields().id_field(), "id");
  EXPECT_FALSE(spec.has_target());
  EXPECT_OK(ValidateSuite(spec, SuiteLimits()));
}

void ExpectInvalid(const emar::v1::JobSpec& spec, const std::vector<std::string>& parts,
                   const SuiteLimits& limits = SuiteLimits()) {
  absl::Status s = ValidateSuite(spec, limits);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  for (const std::string& p : parts) EXPECT_THAT(s.message(), HasSubstr(p));
}

TEST(SuiteTest, ValidationNamesTheDatasetAndMetricAtFault) {
  emar::v1::JobSpec spec = Suite();
  spec.mutable_benchmarks(1)->mutable_metrics(0)->set_name("bleurt");
  ExpectInvalid(spec, {"'benchmarks[1].metrics[0]'", "dataset 'gsm8k'", "unknown metric"});

  spec = Suite();
  emar::v1::MetricSpec* bleu = spec.mutable_benchmarks(0)->add_metrics();
  bleu->set_name("bleu");
  bleu->set_tokenize("intl");
  EXPECT_OK(ValidateSuite(spec, SuiteLimits()));  // options are applied by the metric factory
  bleu->set_tokenize("13b");
  ExpectInvalid(spec, {"'benchmarks[0].metrics[1]'", "dataset 'mmlu'", "bleu", "tokenize", "13b"});
  bleu->set_tokenize("");
  bleu->set_word_order(2);  // a chrF option
  ExpectInvalid(spec, {"'benchmarks[0].metrics[1]'", "dataset 'mmlu'", "bleu", "word_order"});

  spec = Suite();
  spec.mutable_targets(0)->add_metrics()->set_name("accuracy");
  ExpectInvalid(spec,
                {"'targets[0].metrics[2]'", "dataset 'tickets' lists metric 'accuracy' twice"});

  spec = Suite();
  spec.mutable_benchmarks(1)->set_name("tickets");
  ExpectInvalid(spec, {"'benchmarks[1].name'", "dataset name 'tickets' is used twice"});

  spec = Suite();
  spec.mutable_candidates(0)->mutable_outputs()->erase("gsm8k");
  ExpectInvalid(spec, {"'candidates[0].outputs[gsm8k]'",
                       "model 'lora' has no outputs for "
                       "dataset 'gsm8k'"});

  spec = Suite();
  (*spec.mutable_base()->mutable_outputs())["arc"] = "base.arc.jsonl";
  ExpectInvalid(spec, {"'base.outputs[arc]'", "not a target or benchmark dataset"});

  for (double w : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    spec = Suite();
    spec.mutable_benchmarks(0)->set_weight(w);
    ExpectInvalid(spec, {"'benchmarks[0].weight'", "dataset 'mmlu'", "positive and finite"});
  }

  spec = Suite();
  *spec.mutable_target() = OlderForm().target();
  ExpectInvalid(spec, {"'target'", "not both"});

  spec = Suite();
  spec.clear_benchmarks();
  ExpectInvalid(spec, {"'benchmarks'", "at least one target and one benchmark"});

  spec = Suite();
  spec.mutable_targets(0)->set_metric("accuracy");
  ExpectInvalid(spec, {"'targets[0].metric'", "both `metric` and `metrics`"});

  spec = Suite();
  spec.mutable_targets(0)->mutable_gates()->set_max_benchmark_regression(0.1);
  ExpectInvalid(spec, {"'targets[0].gates'", "is a target", "min_target_gain"});

  spec = Suite();
  spec.mutable_base()->set_target_outputs("x.jsonl");
  ExpectInvalid(spec, {"'base.target_outputs'", "`outputs: {dataset: path}`"});

  spec = OlderForm();
  spec.mutable_benchmark()->set_name("reviews");  // as before suites: allowed in the older form
  EXPECT_OK(ValidateSuite(spec, SuiteLimits()));
  (*spec.mutable_base()->mutable_outputs())["reviews"] = "x.jsonl";
  ExpectInvalid(spec, {"'base.outputs'", "target_outputs and benchmark_outputs"});
}

TEST(SuiteTest, LimitsAreFlagsNamedInTheirErrors) {
  SuiteLimits limits;
  limits.max_datasets = 2;
  ExpectInvalid(Suite(), {"3 datasets, limit 2", "--max-datasets"}, limits);
  limits = SuiteLimits();
  limits.max_metrics_per_dataset = 1;
  ExpectInvalid(Suite(), {"dataset 'tickets' has 2 metrics, limit 1", "--max-metrics-per-dataset"},
                limits);
  limits = SuiteLimits();
  limits.max_scores = 3;
  ExpectInvalid(Suite(), {"1 candidates x the datasets' metrics = 4", "--max-suite-scores"},
                limits);
}

TEST(SuiteTest, MetricEntriesBecomeScorersWithTheirOptionsAndTheirKeyNamesThem) {
  emar::v1::MetricSpec m;
  m.set_name("chrf");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> chrf, MakeMetricFromSpec(m));
  EXPECT_EQ(chrf->name(), "chrf");
  EXPECT_EQ(MetricSpecKey(m), "chrf");
  m.set_word_order(2);
  EXPECT_EQ(MetricSpecKey(m), "chrf|word_order=2");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> chrfpp, MakeMetricFromSpec(m));
  EXPECT_THAT(chrfpp->signature(), HasSubstr("nw:2"));
  m.set_tokenize("intl");  // a BLEU option
  EXPECT_THAT(
      MakeMetricFromSpec(m, "dataset 'wmt'"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("dataset 'wmt': "), HasSubstr("chrf"), HasSubstr("tokenize"))));
  emar::v1::ShardTask task;
  task.set_metric("accuracy");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> acc, MetricOfTask(task));
  EXPECT_EQ(acc->name(), "accuracy");
  task.add_metrics()->set_name("token_f1");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> f1, MetricOfTask(task));
  EXPECT_EQ(f1->name(), "token_f1");
}

}  // namespace
}  // namespace emar
