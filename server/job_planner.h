// Turns a CreateJobRequest into shards, after checking everything that can be checked before any
// worker runs: names, metrics, formula, that every input was uploaded, and the references files
// themselves (malformed lines, missing or duplicate ids, empty files). Errors are
// INVALID_ARGUMENT naming the spec field, or the file, line and field of the input at fault.
//
//   ASSIGN_OR_RETURN(JobPlan plan, PlanJob(request, blobs, kDefaultRowsPerShard));
#ifndef EMAR_SERVER_JOB_PLANNER_H_
#define EMAR_SERVER_JOB_PLANNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"
#include "server/blob_store.h"
#include "server/job_store.h"

namespace emar {

struct JobPlan {
  // The request with defaults filled in (formula, bootstrap), as stored and reported.
  emar::v1::CreateJobRequest request;
  std::vector<StoredShard> shards;
};

// Reads blobs from `blobs`; compressed inputs (gzip, zstd) are stored decompressed and the shards
// point at the decompressed copy.
absl::StatusOr<JobPlan> PlanJob(const emar::v1::CreateJobRequest& request, BlobStore& blobs,
                                int64_t rows_per_shard);

}  // namespace emar

#endif  // EMAR_SERVER_JOB_PLANNER_H_
