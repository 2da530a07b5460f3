// The job spec's field names onto the input library's FieldConfig: empty names take the
// defaults, set ones are kept.
#include "eval/job/field_names.h"

#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(FieldNamesTest, EmptyNamesTakeTheInputLibrarysDefaults) {
  const FieldConfig c = ToFieldConfig(emar::v1::FieldNames());
  const FieldConfig defaults;
  EXPECT_EQ(c.id_field, defaults.id_field);
  EXPECT_EQ(c.id_field, "id");
  EXPECT_EQ(c.prediction_field, "prediction");
  EXPECT_EQ(c.reference_field, "");  // "reference" or "references"
  EXPECT_EQ(c.logprobs_field, "token_logprobs");
}

TEST(FieldNamesTest, SetNamesAreKeptOneByOne) {
  emar::v1::FieldNames f;
  f.set_id_field("doc_id");
  f.set_reference_field("target");
  const FieldConfig c = ToFieldConfig(f);
  EXPECT_EQ(c.id_field, "doc_id");
  EXPECT_EQ(c.prediction_field, "prediction");
  EXPECT_EQ(c.reference_field, "target");
  f.set_prediction_field("filtered_resps.0");
  f.set_logprobs_field("lp");
  const FieldConfig all = ToFieldConfig(f);
  EXPECT_EQ(all.prediction_field, "filtered_resps.0");
  EXPECT_EQ(all.logprobs_field, "lp");
}

}  // namespace
}  // namespace emar
