// A synthetic job big enough to span many shards, written into a directory: a label target set
// (accuracy) and a QA benchmark with several references per example (exact_match), a base model
// and one candidate. Deterministic; the generator counts the right answers itself, so the
// expected scores need no scorer.
//
//   ASSERT_OK_AND_ASSIGN(GeneratedJob job, WriteGeneratedJob(dir.path(), 200000, 100000));
//   ... job.job_file, job.t0 ...
#ifndef EMAR_TESTS_SYSTEM_GENERATED_JOB_H_
#define EMAR_TESTS_SYSTEM_GENERATED_JOB_H_

#include <string>

#include "absl/status/statusor.h"

namespace emar::testing {

struct GeneratedJob {
  std::string job_file;  // dir/job.yaml
  size_t n_target = 0;
  size_t n_benchmark = 0;
  // Expected scores, fractions in [0, 1].
  double t0 = 0, t1 = 0, b0 = 0, b1 = 0;
};

// Writes dir/job.yaml, dir/data/{target,benchmark}.jsonl and
// dir/out/{base,cand}.{target,benchmark}.jsonl. The job uses `bootstrap_resamples` resamples (kept
// small so tests stay quick).
absl::StatusOr<GeneratedJob> WriteGeneratedJob(const std::string& dir, size_t n_target,
                                               size_t n_benchmark, int bootstrap_resamples = 200);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_GENERATED_JOB_H_
