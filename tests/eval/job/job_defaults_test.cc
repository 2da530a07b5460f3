// A job's defaults filled in one place: dataset field names, the formula, the bootstrap settings;
// whatever the spec sets is kept, valid or not.
#include "eval/job/job_defaults.h"

#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(JobDefaultsTest, WithDefaultFieldsFillsAllButTheReferenceField) {
  const emar::v1::FieldNames f = WithDefaultFields(emar::v1::FieldNames());
  EXPECT_EQ(f.id_field(), "id");
  EXPECT_EQ(f.prediction_field(), "prediction");
  EXPECT_EQ(f.logprobs_field(), "token_logprobs");
  EXPECT_EQ(f.reference_field(), "");  // a line may have "reference" or "references"
  emar::v1::FieldNames set;
  set.set_id_field("doc_id");
  set.set_reference_field("target");
  const emar::v1::FieldNames kept = WithDefaultFields(set);
  EXPECT_EQ(kept.id_field(), "doc_id");
  EXPECT_EQ(kept.reference_field(), "target");
  EXPECT_EQ(kept.prediction_field(), "prediction");
}

TEST(JobDefaultsTest, AnEmptySpecGetsTheDocumentedDefaults) {
  emar::v1::JobSpec spec;
  ApplyJobDefaults(spec);
  EXPECT_EQ(spec.target().fields().id_field(), "id");
  EXPECT_EQ(spec.benchmark().fields().prediction_field(), "prediction");
  EXPECT_EQ(spec.formula(), "relative_gain");
  EXPECT_EQ(spec.bootstrap().resamples(), 1000);
  EXPECT_DOUBLE_EQ(spec.bootstrap().confidence(), 0.95);
  ASSERT_TRUE(spec.bootstrap().has_seed());
  EXPECT_EQ(spec.bootstrap().seed(), 12345u);
  EXPECT_EQ(spec.bootstrap().test(), kPairedBootstrapTest);
  EXPECT_EQ(spec.bootstrap().ar_trials(), 10000);
}

TEST(JobDefaultsTest, ValuesTheSpecSetsAreKeptEvenInvalidOnes) {
  emar::v1::JobSpec spec;
  spec.set_formula("(T1 - T0) / B0");
  spec.mutable_target()->mutable_fields()->set_id_field("qid");
  spec.mutable_bootstrap()->set_resamples(-5);  // the planner refuses it, not this
  spec.mutable_bootstrap()->set_confidence(0.9);
  spec.mutable_bootstrap()->set_seed(0);  // set, so kept: 0 is a seed like any other
  spec.mutable_bootstrap()->set_test(kApproximateRandomizationTest);
  spec.mutable_bootstrap()->set_ar_trials(7);
  ApplyJobDefaults(spec);
  EXPECT_EQ(spec.formula(), "(T1 - T0) / B0");
  EXPECT_EQ(spec.target().fields().id_field(), "qid");
  EXPECT_EQ(spec.target().fields().prediction_field(), "prediction");
  EXPECT_EQ(spec.bootstrap().resamples(), -5);
  EXPECT_DOUBLE_EQ(spec.bootstrap().confidence(), 0.9);
  EXPECT_EQ(spec.bootstrap().seed(), 0u);
  EXPECT_EQ(spec.bootstrap().test(), "approximate_randomization");
  EXPECT_EQ(spec.bootstrap().ar_trials(), 7);
}

}  // namespace
}  // namespace emar
