// Scores one predictions file against one references file in this process (`emarctl score`),
// through the same join and scorer code a worker runs.
//
//   ASSIGN_OR_RETURN(LocalScore s, ScoreFiles("exact_match", "out/base.jsonl", "data/refs.jsonl",
//   {}));
#ifndef EMAR_CLIENT_LOCAL_SCORER_H_
#define EMAR_CLIENT_LOCAL_SCORER_H_

#include <string>

#include "absl/status/statusor.h"
#include "emar/v1/job.pb.h"
#include "eval/metrics/metric.h"

namespace emar {

struct LocalScore {
  std::string metric;
  MetricValue value;
  int64_t n = 0;
  std::string direction;
  std::string signature;
};

// Every reference needs exactly one prediction: INVALID_ARGUMENT naming file, line and id
// otherwise.
absl::StatusOr<LocalScore> ScoreFiles(const std::string& metric,
                                      const std::string& predictions_path,
                                      const std::string& references_path,
                                      const emar::v1::FieldNames& fields);

}  // namespace emar

#endif  // EMAR_CLIENT_LOCAL_SCORER_H_
