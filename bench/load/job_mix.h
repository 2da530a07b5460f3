// The jobs of the load test and what each must end as. Every job is a tests/system generated job
// (labels target with accuracy, QA benchmark with exact_match; base + one candidate) of its own
// size in its own directory; bad jobs have one file altered so that exactly one error is due.
// Expected scores come from the generator's own counts, checked against the plain re-scoring of
// the files in tests/system/reference_scores before the run starts, never from eval/metrics.
//
//   ASSIGN_OR_RETURN(std::vector<std::vector<PlannedJob>> jobs, WriteJobMix(options, dir));
//   for (const PlannedJob& j : jobs[client]) ... j.job_file, j.kind, j.t0, j.error_parts ...
#ifndef EMAR_BENCH_LOAD_JOB_MIX_H_
#define EMAR_BENCH_LOAD_JOB_MIX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar::load {

enum class JobKind {
  kGood,           // SUCCEEDED with the expected scores
  kCancel,         // cancelled right after CreateJob: CANCELLED, or SUCCEEDED if it won the race
  kMalformedJson,  // a truncated JSON line in an outputs file: FAILED naming file:line
  kUnknownMetric,  // CreateJob INVALID_ARGUMENT naming target.metric and the name
  kMissingId,      // an outputs line deleted: FAILED naming the id and its references line
  kUnknownId,      // an outputs line with an id not in the references: FAILED naming file:line, id
  kDuplicateId,    // line 1 repeated at the end (another shard): FAILED naming both lines
};
inline constexpr JobKind kBadKinds[] = {JobKind::kMalformedJson, JobKind::kUnknownMetric,
                                        JobKind::kMissingId, JobKind::kUnknownId,
                                        JobKind::kDuplicateId};
absl::string_view JobKindName(JobKind kind);
inline bool IsBad(JobKind k) { return k != JobKind::kGood && k != JobKind::kCancel; }

struct PlannedJob {
  JobKind kind = JobKind::kGood;
  std::string name;        // job name, also the request id
  std::string job_file;    // absolute path of job.yaml
  size_t n_target = 0;     // reference rows
  size_t n_benchmark = 0;  // reference rows
  // Expected scores (fractions) for good and cancelled jobs.
  double t0 = 0, t1 = 0, b0 = 0, b1 = 0;
  // Bad jobs: the error (job.error, or CreateJob's message) must contain every one of these.
  std::vector<std::string> error_parts;
  // Cancel jobs: the pause between CreateJob's answer and CancelJob (0: none).
  int cancel_delay_ms = 0;
};

struct JobMixOptions {
  int clients = 50;
  int jobs_per_client = 4;
  double bad_fraction = 0.15;
  double cancel_fraction = 0.15;
  int64_t rows_per_shard = 1000;  // the coordinator's, so a duplicate lands in another shard
  int bootstrap_resamples = 200;
  int max_cancel_delay_ms = 0;  // cancel delays are uniform in [0, this]
  uint64_t seed = 1;
};

// Writes every job under `dir` (which must exist) and returns them by client. The numbers of bad
// and cancelled jobs are the fractions of the total, rounded; bad kinds take turns.
absl::StatusOr<std::vector<std::vector<PlannedJob>>> WriteJobMix(const JobMixOptions& options,
                                                                 const std::string& dir);

}  // namespace emar::load

#endif  // EMAR_BENCH_LOAD_JOB_MIX_H_
