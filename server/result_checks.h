// What the coordinator checks in a worker's shard result before it stores it (and so before the
// score cache can hand it to another job): the shape the shard's plan implies and values a
// scorer of the shard's metric can produce. A worker token is trusted to score honestly within
// those bounds, not beyond them (docs/guarantees.md).
//
//   RETURN_IF_ERROR(CheckShardResult(task, request.result()));   // INVALID_ARGUMENT otherwise
#ifndef EMAR_SERVER_RESULT_CHECKS_H_
#define EMAR_SERVER_RESULT_CHECKS_H_

#include "absl/status/status.h"
#include "emar/v1/service.pb.h"

namespace emar {

// OK when `result` has exactly the task's rows (when the task records them), one reference row
// and one outputs line per row within the task's ranges, the metric's statistics width, and
// finite values in the metric's range: 0/1 for accuracy-like metrics, [0, 1] for per-example
// fractions (token_f1, ROUGE, pass_at_k), non-negative counts for BLEU, chrF and perplexity's
// token columns, label ids within the shard's label table for classification metrics.
// INVALID_ARGUMENT naming the shard, the row and the column otherwise.
absl::Status CheckShardResult(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result);

}  // namespace emar

#endif  // EMAR_SERVER_RESULT_CHECKS_H_
