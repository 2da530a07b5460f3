#include "eval/job/field_names.h"

namespace emar {

FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields) {
  FieldConfig c;
  if (!fields.id_field().empty()) c.id_field = fields.id_field();
  if (!fields.prediction_field().empty()) c.prediction_field = fields.prediction_field();
  if (!fields.reference_field().empty()) c.reference_field = fields.reference_field();
  if (!fields.logprobs_field().empty()) c.logprobs_field = fields.logprobs_field();
  c.choices_field = fields.choices_field();
  return c;
}

FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields, const emar::v1::MetricSpec& metric) {
  FieldConfig c = ToFieldConfig(fields);
  if ((metric.name() == "score" || metric.name() == "pass_at_k") && !metric.field().empty()) {
    c.prediction_field = metric.field();
  }
  return c;
}

FieldConfig TaskFieldConfig(const emar::v1::ShardTask& task) {
  if (task.metrics_size() == 0) return ToFieldConfig(task.fields());
  return ToFieldConfig(task.fields(), task.metrics(0));
}

bool UsesSamples(const emar::v1::DatasetSpec& dataset) {
  if (!dataset.fields().sample_field().empty()) return true;
  if (dataset.metric() == "pass_at_k") return true;
  for (const emar::v1::MetricSpec& m : dataset.metrics()) {
    if (m.name() == "pass_at_k") return true;
  }
  return false;
}

}  // namespace emar
