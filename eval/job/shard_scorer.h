// Scores one shard with no RPC in sight: streams the shard's prediction lines, joins each to the
// references by id, and turns it into a row of the metric's per-example statistics.
//
//   ASSIGN_OR_RETURN(ShardResult r, ScoreShard(task, outputs_bytes, references, *metric));
//
// Errors are INVALID_ARGUMENT naming the outputs file, the line and the field: malformed JSON,
// missing or ill-typed fields, an id that is not in the references, an id answered twice.
#ifndef EMAR_EVAL_JOB_SHARD_SCORER_H_
#define EMAR_EVAL_JOB_SHARD_SCORER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emar/v1/service.pb.h"
#include "eval/input/reference_table.h"
#include "eval/metrics/metric.h"

namespace emar {

// `outputs` holds exactly the shard's byte range of the outputs file.
absl::StatusOr<emar::v1::ShardResult> ScoreShard(const emar::v1::ShardTask& task,
                                                 absl::string_view outputs,
                                                 const ReferenceTable& references,
                                                 const Metric& metric);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_SHARD_SCORER_H_
