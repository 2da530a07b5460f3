// The reference rows of a dataset without a references file: the ids the base model's outputs
// answer, each once, in the order of their first line. Only a dataset whose every metric is
// `score` may leave `references` empty (its values come from the outputs alone); every other
// model must then answer the same ids, which the join checks as for any references file.
//
//   ASSIGN_OR_RETURN(ReferenceTable ids, IdsOfOutputs("out/base.judge.jsonl", bytes, fields, m));
//
// Lines are read as the shards read them (the metric's value field, the sample field when the
// dataset has several samples per item), so a malformed line is INVALID_ARGUMENT naming the
// file, line and field.
#ifndef EMAR_EVAL_JOB_OUTPUT_IDS_H_
#define EMAR_EVAL_JOB_OUTPUT_IDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emar/v1/job.pb.h"
#include "eval/input/reference_table.h"

namespace emar {

absl::StatusOr<ReferenceTable> IdsOfOutputs(absl::string_view display_name,
                                            absl::string_view outputs,
                                            const emar::v1::FieldNames& fields,
                                            const emar::v1::MetricSpec& metric);

// OK when `dataset` has a references file, or none and every metric is `score`; otherwise
// INVALID_ARGUMENT naming `field` (the dataset's spec field).
absl::Status CheckReferencesOptional(const emar::v1::DatasetSpec& dataset,
                                     const std::string& field);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_OUTPUT_IDS_H_
