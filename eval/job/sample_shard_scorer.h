// Scores one shard of outputs that hold several samples per item (the dataset's
// fields.sample_field is set): one row per sample, each naming the reference row (item) it
// answered, its outputs line and its sample index (ShardResult.sample). Whether every item has
// the same number of distinct samples is checked when the shards are put together (an item's
// samples may fall into several shards): server/sample_assembly.h.
//
//   ASSIGN_OR_RETURN(ShardResult r, ScoreSampleShard(task, outputs_bytes, references, *metric));
//
// Errors are INVALID_ARGUMENT naming the outputs file, the line and the field: malformed JSON, a
// missing or ill-typed sample index, an id that is not in the references. Metrics whose rows
// are label ids cannot be averaged over samples and are refused.
#ifndef EMAR_EVAL_JOB_SAMPLE_SHARD_SCORER_H_
#define EMAR_EVAL_JOB_SAMPLE_SHARD_SCORER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emar/v1/service.pb.h"
#include "eval/input/reference_table.h"
#include "eval/metrics/metric.h"

namespace emar {

absl::StatusOr<emar::v1::ShardResult> ScoreSampleShard(const emar::v1::ShardTask& task,
                                                       absl::string_view outputs,
                                                       const ReferenceTable& references,
                                                       const Metric& metric);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_SAMPLE_SHARD_SCORER_H_
