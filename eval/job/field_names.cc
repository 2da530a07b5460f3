#include "eval/job/field_names.h"

namespace emar {

FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields) {
  FieldConfig c;
  if (!fields.id_field().empty()) c.id_field = fields.id_field();
  if (!fields.prediction_field().empty()) c.prediction_field = fields.prediction_field();
  if (!fields.reference_field().empty()) c.reference_field = fields.reference_field();
  if (!fields.logprobs_field().empty()) c.logprobs_field = fields.logprobs_field();
  return c;
}

}  // namespace emar
