// Maps the job spec's FieldNames (proto) onto the input library's FieldConfig, defaults applied.
#ifndef EMAR_EVAL_JOB_FIELD_NAMES_H_
#define EMAR_EVAL_JOB_FIELD_NAMES_H_

#include "emar/v1/job.pb.h"
#include "eval/input/field_config.h"

namespace emar {

FieldConfig ToFieldConfig(const emar::v1::FieldNames& fields);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_FIELD_NAMES_H_
