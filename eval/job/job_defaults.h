// The one place a job's defaults are filled in: dataset field names (FieldConfig's defaults), the
// EMAR formula (kDefaultEmarPreset) and the bootstrap settings (BootstrapOptions' defaults), plus
// the coordinator's default shard size. The planner stores the spec with these applied, so a
// report always states the settings it was computed with.
#ifndef EMAR_EVAL_JOB_JOB_DEFAULTS_H_
#define EMAR_EVAL_JOB_JOB_DEFAULTS_H_

#include <cstdint>

#include "emar/v1/job.pb.h"

namespace emar {

// The job spec's names of the paired tests (bootstrap.test); the default is the first.
inline constexpr char kPairedBootstrapTest[] = "paired_bootstrap";
inline constexpr char kApproximateRandomizationTest[] = "approximate_randomization";

// Power analysis and small datasets (bootstrap.power, bootstrap.small_dataset_items): every
// delta's minimum detectable effect is reported at this power, and 0/1 datasets with fewer items
// also get Wilson intervals.
inline constexpr double kDefaultPower = 0.8;
inline constexpr int32_t kDefaultSmallDatasetItems = 100;

// Rows of a model output file per shard (emar-coordinator --rows_per_shard, emarctl run).
inline constexpr int64_t kDefaultRowsPerShard = 50000;

// `fields` with every empty name but reference_field set to its default. reference_field stays
// empty: then a line may have "reference" or "references".
emar::v1::FieldNames WithDefaultFields(const emar::v1::FieldNames& fields);

// Fills what `spec` leaves unset: every dataset's field names, the formula and the bootstrap
// settings (with power and small_dataset_items); a dataset with pass_at_k and no sample field
// gets "sample". Values that are set are kept, valid or not: the planner checks them afterwards.
void ApplyJobDefaults(emar::v1::JobSpec& spec);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_JOB_DEFAULTS_H_
