// The report of a job whose shards are all stored: loads the request, shards and results from the
// job store, puts the per-example statistics back together (ResultAssembler) and builds the
// report (BuildReport). Reads the references files only when an error message must name an id.
//
//   ASSIGN_OR_RETURN(Report r, BuildStoredJobReport(job_id, store, blobs));
#ifndef EMAR_SERVER_STORED_JOB_REPORT_H_
#define EMAR_SERVER_STORED_JOB_REPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/report.pb.h"
#include "server/blob_store.h"
#include "server/job_store.h"
#include "server/result_assembler.h"

namespace emar {

// A finished job's stored request, shards and assembled per-example statistics (whose `spec`
// pointers point into `request`).
struct StoredJobResults {
  std::unique_ptr<emar::v1::CreateJobRequest> request;
  std::vector<StoredShard> shards;
  AssembledResults assembled;
};

// Reads and assembles every stored shard result of the job (the first half of the report).
absl::StatusOr<StoredJobResults> AssembleStoredJob(const std::string& job_id, JobStore& store,
                                                   BlobStore& blobs);

// INVALID_ARGUMENT for input faults found only now (an id answered twice across shards, a
// reference no model line answered), naming file, line and id.
absl::StatusOr<emar::v1::Report> BuildStoredJobReport(const std::string& job_id, JobStore& store,
                                                      BlobStore& blobs);

}  // namespace emar

#endif  // EMAR_SERVER_STORED_JOB_REPORT_H_
