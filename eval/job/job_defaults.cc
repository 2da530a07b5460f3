#include "eval/job/job_defaults.h"

#include "eval/formula/emar_formula.h"
#include "eval/input/field_config.h"
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

void ApplyJobDefaults(emar::v1::JobSpec& spec) {
  if (spec.targets_size() == 0 && spec.benchmarks_size() == 0) {
    *spec.mutable_target()->mutable_fields() = WithDefaultFields(spec.target().fields());
    *spec.mutable_benchmark()->mutable_fields() = WithDefaultFields(spec.benchmark().fields());
  }
  for (auto* list : {spec.mutable_targets(), spec.mutable_benchmarks()}) {
    for (emar::v1::DatasetSpec& d : *list) *d.mutable_fields() = WithDefaultFields(d.fields());
  }
  if (spec.formula().empty()) spec.set_formula(kDefaultEmarPreset);
  const BootstrapOptions defaults;
  emar::v1::BootstrapSpec& bs = *spec.mutable_bootstrap();
  if (bs.resamples() == 0) bs.set_resamples(defaults.resamples);
  if (bs.confidence() == 0) bs.set_confidence(defaults.confidence);
  if (!bs.has_seed()) bs.set_seed(defaults.seed);
  if (bs.test().empty()) bs.set_test(kPairedBootstrapTest);
  if (bs.ar_trials() == 0) bs.set_ar_trials(defaults.ar_trials);
}

}  // namespace emar
