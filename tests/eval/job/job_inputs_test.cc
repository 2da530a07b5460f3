// ListJobInputs (the one list of a job's files) and ApplyJobDefaults (the one place defaults are
// filled in).
#include "eval/job/job_inputs.h"

#include "eval/job/job_defaults.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::ElementsAre;

emar::v1::JobSpec TwoCandidates() {
  emar::v1::JobSpec spec;
  spec.mutable_target()->set_references("t.jsonl");
  spec.mutable_benchmark()->set_references("b.jsonl");
  spec.mutable_base()->set_name("base");
  spec.mutable_base()->set_target_outputs("base.t.jsonl");
  spec.mutable_base()->set_benchmark_outputs("base.b.jsonl");
  for (const char* name : {"lora", "full"}) {
    emar::v1::ModelSpec* c = spec.add_candidates();
    c->set_name(name);
    c->set_target_outputs(std::string(name) + ".t.jsonl");
    c->set_benchmark_outputs(std::string(name) + ".b.jsonl");
  }
  return spec;
}

std::vector<std::string> Fields(const std::vector<JobInput>& in) {
  std::vector<std::string> out;
  for (const JobInput& i : in) out.push_back(i.field);
  return out;
}

TEST(JobInputsTest, ListsEveryInputInSpecOrderWithFieldAndReportRole) {
  const std::vector<JobInput> in = ListJobInputs(TwoCandidates());
  EXPECT_THAT(Fields(in),
              ElementsAre("target.references", "benchmark.references", "base.target_outputs",
                          "base.benchmark_outputs", "candidates[0].target_outputs",
                          "candidates[0].benchmark_outputs", "candidates[1].target_outputs",
                          "candidates[1].benchmark_outputs"));
  std::vector<std::string> roles, paths;
  for (const JobInput& i : in) {
    roles.push_back(i.report_role);
    paths.push_back(i.path);
  }
  EXPECT_THAT(roles,
              ElementsAre("target.references", "benchmark.references", "base.target_outputs",
                          "base.benchmark_outputs", "lora.target_outputs", "lora.benchmark_outputs",
                          "full.target_outputs", "full.benchmark_outputs"));
  EXPECT_THAT(paths, ElementsAre("t.jsonl", "b.jsonl", "base.t.jsonl", "base.b.jsonl",
                                 "lora.t.jsonl", "lora.b.jsonl", "full.t.jsonl", "full.b.jsonl"));
}

TEST(JobInputsTest, DatasetAndModelIndexOfEachInput) {
  const std::vector<JobInput> in = ListJobInputs(TwoCandidates());
  ASSERT_EQ(in.size(), 8u);
  EXPECT_TRUE(in[0].is_references());
  EXPECT_EQ(in[0].dataset, emar::v1::DATASET_ROLE_TARGET);
  EXPECT_TRUE(in[1].is_references());
  EXPECT_EQ(in[1].dataset, emar::v1::DATASET_ROLE_BENCHMARK);
  for (size_t k = 2; k < in.size(); ++k) {
    EXPECT_FALSE(in[k].is_references());
    EXPECT_EQ(in[k].model_index, static_cast<int>((k - 2) / 2));
    EXPECT_EQ(in[k].dataset,
              k % 2 == 0 ? emar::v1::DATASET_ROLE_TARGET : emar::v1::DATASET_ROLE_BENCHMARK);
  }
  const emar::v1::JobSpec spec = TwoCandidates();  // ModelsInOrder points into it
  const std::vector<const emar::v1::ModelSpec*> models = ModelsInOrder(spec);
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[2]->name(), "full");
  EXPECT_EQ(ModelField(0), "base");
  EXPECT_EQ(ModelField(2), "candidates[1]");
}

TEST(JobInputsTest, EmptyPathsAreListedSoThePlannerCanNameTheField) {
  emar::v1::JobSpec spec = TwoCandidates();
  spec.mutable_candidates(1)->clear_benchmark_outputs();
  const std::vector<JobInput> in = ListJobInputs(spec);
  ASSERT_EQ(in.size(), 8u);
  EXPECT_EQ(in[7].field, "candidates[1].benchmark_outputs");
  EXPECT_EQ(in[7].path, "");
}

TEST(JobDefaultsTest, FillsWhatIsUnset) {
  emar::v1::JobSpec spec = TwoCandidates();
  ApplyJobDefaults(spec);
  EXPECT_EQ(spec.formula(), "relative_gain");
  EXPECT_EQ(spec.bootstrap().resamples(), 1000);
  EXPECT_EQ(spec.bootstrap().confidence(), 0.95);
  ASSERT_TRUE(spec.bootstrap().has_seed());
  EXPECT_EQ(spec.bootstrap().seed(), 12345u);
  EXPECT_EQ(spec.bootstrap().test(), "paired_bootstrap");
  EXPECT_EQ(spec.bootstrap().ar_trials(), 10000);
  for (const emar::v1::DatasetSpec* d : {&spec.target(), &spec.benchmark()}) {
    EXPECT_EQ(d->fields().id_field(), "id");
    EXPECT_EQ(d->fields().prediction_field(), "prediction");
    EXPECT_EQ(d->fields().logprobs_field(), "token_logprobs");
    EXPECT_EQ(d->fields().reference_field(), "");  // "reference" or "references"
  }
}

TEST(JobDefaultsTest, KeepsWhatIsSetEvenWhenInvalid) {
  emar::v1::JobSpec spec = TwoCandidates();
  spec.set_formula("T1 - T0");
  spec.mutable_bootstrap()->set_resamples(-3);  // the planner rejects it, naming the field
  spec.mutable_bootstrap()->set_confidence(0.9);
  spec.mutable_bootstrap()->set_seed(0);  // an explicit 0 is a seed, not "unset"
  spec.mutable_bootstrap()->set_test("approximate_randomization");
  spec.mutable_target()->mutable_fields()->set_id_field("doc_id");
  spec.mutable_target()->mutable_fields()->set_reference_field("target");
  ApplyJobDefaults(spec);
  EXPECT_EQ(spec.formula(), "T1 - T0");
  EXPECT_EQ(spec.bootstrap().resamples(), -3);
  EXPECT_EQ(spec.bootstrap().confidence(), 0.9);
  EXPECT_EQ(spec.bootstrap().seed(), 0u);
  EXPECT_EQ(spec.bootstrap().test(), "approximate_randomization");
  EXPECT_EQ(spec.target().fields().id_field(), "doc_id");
  EXPECT_EQ(spec.target().fields().reference_field(), "target");
  EXPECT_EQ(spec.target().fields().prediction_field(), "prediction");
  EXPECT_EQ(spec.benchmark().fields().id_field(), "id");
}

}  // namespace
}  // namespace emar
