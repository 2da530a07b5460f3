#include "eval/job/job_defaults.h"

#include "eval/formula/emar_formula.h"
#include "eval/input/field_config.h"
#include "eval/input/sample_reader.h"
#include "eval/job/field_names.h"
#include "eval/stats/paired_bootstrap.h"

namespace emar {

emar::v1::FieldNames WithDefaultFields(const emar::v1::FieldNames& fields) {
  const FieldConfig defaults;
  emar::v1::FieldNames out = fields;
  if (out.id_field().empty()) out.set_id_field(defaults.id_field);
  if (out.prediction_field().empty()) out.set_prediction_field(defaults.prediction_field);
  if (out.logprobs_field().empty()) out.set_logprobs_field(defaults.logprobs_field);
  return out;
}

namespace {

// Field defaults of one dataset: WithDefaultFields, and the sample field "sample" when its
// outputs hold several samples per item without naming the field (pass_at_k).
void ApplyDatasetDefaults(emar::v1::DatasetSpec& d) {
  *d.mutable_fields() = WithDefaultFields(d.fields());
  if (UsesSamples(d) && d.fields().sample_field().empty()) {
    d.mutable_fields()->set_sample_field(kDefaultSampleField);
  }
}

}  // namespace

void ApplyJobDefaults(emar::v1::JobSpec& spec) {
  if (spec.targets_size() == 0 && spec.benchmarks_size() == 0) {
    ApplyDatasetDefaults(*spec.mutable_target());
    ApplyDatasetDefaults(*spec.mutable_benchmark());
  }
  for (auto* list : {spec.mutable_targets(), spec.mutable_benchmarks()}) {
    for (emar::v1::DatasetSpec& d : *list) ApplyDatasetDefaults(d);
  }
  if (spec.formula().empty()) spec.set_formula(kDefaultEmarPreset);
  const BootstrapOptions defaults;
  emar::v1::BootstrapSpec& bs = *spec.mutable_bootstrap();
  if (bs.resamples() == 0) bs.set_resamples(defaults.resamples);
  if (bs.confidence() == 0) bs.set_confidence(defaults.confidence);
  if (!bs.has_seed()) bs.set_seed(defaults.seed);
  if (bs.test().empty()) bs.set_test(kPairedBootstrapTest);
  if (bs.ar_trials() == 0) bs.set_ar_trials(defaults.ar_trials);
  if (!bs.has_power()) bs.set_power(kDefaultPower);
  if (!bs.has_small_dataset_items()) bs.set_small_dataset_items(kDefaultSmallDatasetItems);
}

}  // namespace emar
