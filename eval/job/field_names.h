// Maps the job spec's FieldNames (proto) onto the input library's FieldConfig, defaults applied,
// and says whether a dataset's outputs hold several samples per item.
#ifndef EMAR_EVAL_JOB_FIELD_NAMES_H_
#define EMAR_EVAL_JOB_FIELD_NAMES_H_

#include "emar/v1/job.pb.h"
#include "emar/v1/service.pb.h"
#include "eval/input/field_config.h"

namespace emar {

FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields);

// The field configuration a shard's metric reads with: the dataset's, except that a metric with
// a `field` option (score, pass_at_k) reads its value from that outputs field as the prediction.
FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields, const emar::v1::MetricSpec& metric);
FieldConfig TaskFieldConfig(const emar::v1::ShardTask& task);

// A dataset's outputs hold several samples per item when its fields name a sample field, or when
// one of its metrics is pass_at_k (which then reads the default field "sample").
bool UsesSamples(const emar::v1::DatasetSpec& dataset);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_FIELD_NAMES_H_
