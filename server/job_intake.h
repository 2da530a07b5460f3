// The pure steps of creating a job around the planner (server/job_planner.h): checking its
// labels, naming it, turning a plan into a QUEUED job row, and leaving out the shards the score
// cache answered. No store, no lock: the coordinator sequences them.
//
//   RETURN_IF_ERROR(CheckLabels(request.spec().labels()));
//   emar::v1::Job job = NewQueuedJob(&plan, request, who, now, {.enabled = true});
//   ... store the job, which says which shards it reused ...
//   IntakeShards todo = SplitReused(&plan, reused, &job);
#ifndef EMAR_SERVER_JOB_INTAKE_H_
#define EMAR_SERVER_JOB_INTAKE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "emar/v1/service.pb.h"
#include "server/job_planner.h"
#include "server/principal.h"

namespace emar {

// Labels are for grouping and ordering jobs, so they stay small and printable: at most 32, keys
// 1-63 characters of letters, digits, '.', '_', '-' and '/', values at most 256 characters
// without control characters. INVALID_ARGUMENT naming spec.labels otherwise.
absl::Status CheckLabels(const google::protobuf::Map<std::string, std::string>& labels);

// "job-" and 16 random hex digits.
std::string NewJobId();

// How shards are keyed for the score cache (server/content_keys.h).
struct CacheScope {
  bool enabled = true;
  // Keys shared by every principal; otherwise each principal's jobs reuse only its own entries.
  bool shared = false;
};

// The job row for `plan`: a new id, QUEUED, owned by `who`, created `now`, with its shard count.
// Names every shard's task after the job, records its row count in it and, when `cache` is
// enabled, keys it for the cache.
emar::v1::Job NewQueuedJob(JobPlan* plan, const emar::v1::CreateJobRequest& request,
                           const Principal& who, absl::Time now, CacheScope cache);

// The shards left to score once those in `reused` came from the score cache.
struct IntakeShards {
  std::vector<emar::v1::ShardTask> to_score;
  int total = 0;
  int reused = 0;
  int64_t examples_reused = 0;
};
// Moves the tasks still to score out of `plan` and records the reused ones in `job`'s progress.
IntakeShards SplitReused(JobPlan* plan, const std::vector<int32_t>& reused, emar::v1::Job* job);

}  // namespace emar

#endif  // EMAR_SERVER_JOB_INTAKE_H_
