// Turns a CreateJobRequest into shards, after checking everything that can be checked before any
// worker runs: names, metrics, formula, that every input was uploaded, and the references files
// themselves (malformed lines, missing or duplicate ids, empty files). Errors are
// INVALID_ARGUMENT naming the spec field, or the file, line and field of the input at fault.
//
//   ASSIGN_OR_RETURN(JobPlan plan, PlanJob(request, blobs, kDefaultRowsPerShard));
#ifndef EMAR_SERVER_JOB_PLANNER_H_
#define EMAR_SERVER_JOB_PLANNER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"
#include "eval/input/reference_table.h"
#include "eval/job/suite.h"
#include "server/blob_store.h"
#include "server/job_store.h"

namespace emar {

// The largest input file, as uploaded and after decompression (emar-coordinator --max-input-mb).
// A decompressed input is held in memory while it is checked, by each of two planner threads:
// 1 GiB (about 10M JSONL rows) keeps one CreateJob's inputs within a few GiB.
inline constexpr uint64_t kDefaultMaxInputBytes = uint64_t{1} << 30;

// resamples x models x examples (every dataset's rows times its metrics) a job may ask of the
// statistics (emar-coordinator --max-bootstrap-work). The 1M + 1M example job with one candidate
// and 1,000 resamples is 4e9.
inline constexpr double kDefaultMaxBootstrapWork = 1e11;
// Lengths of names (job, datasets, models, metric) and input paths, and candidates per job.
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr int kMaxCandidates = 256;

struct JobPlan {
  // The request with defaults filled in (formula, bootstrap), as stored and reported.
  emar::v1::CreateJobRequest request;
  std::vector<StoredShard> shards;
};

// Takes the tables the planner parsed while checking a job's references: the embedded mode gives
// them to its worker threads, which would otherwise fetch and parse the same files again.
// `sha256` is the digest of the (decompressed) references blob the shards name, `fields` the
// dataset's field names. Called on the planner's threads, possibly two at once, also for a plan
// refused later; only for the first kParsedReferencesTables datasets in suite order, whose shards
// are leased first (ShardScheduler::AddJob): a worker keeps that many tables, so the others'
// would be dropped before their shards come, and are checked without their texts instead.
inline constexpr int kParsedReferencesTables = 2;
using ParsedReferencesSink =
    std::function<void(const std::string& sha256, const emar::v1::FieldNames& fields,
                       std::shared_ptr<const ReferenceTable> table)>;

// Reads blobs from `blobs`; compressed inputs (gzip, zstd) are stored decompressed and the shards
// point at the decompressed copy, which is published only when the job is accepted. An input
// larger than `max_input_bytes` (as uploaded or decompressed) is RESOURCE_EXHAUSTED naming the
// file and the limit; decompression stops at the limit whatever size the data declares.
// Names longer than kMaxNameBytes, paths longer than kMaxPathBytes, more than kMaxCandidates
// candidates, a suite beyond `limits` and statistics work beyond `max_bootstrap_work` are
// INVALID_ARGUMENT naming the field and the limit. Both spec forms are accepted (one `target`
// and `benchmark`, or `targets`/`benchmarks` lists: see eval/job/suite.h); the stored request
// keeps the form it came in. Never throws: out of memory while checking an input is
// RESOURCE_EXHAUSTED.
absl::StatusOr<JobPlan> PlanJob(const emar::v1::CreateJobRequest& request, BlobStore& blobs,
                                int64_t rows_per_shard,
                                uint64_t max_input_bytes = kDefaultMaxInputBytes,
                                double max_bootstrap_work = kDefaultMaxBootstrapWork,
                                const ParsedReferencesSink& parsed_references = nullptr,
                                const SuiteLimits& limits = SuiteLimits());

}  // namespace emar

#endif  // EMAR_SERVER_JOB_PLANNER_H_
