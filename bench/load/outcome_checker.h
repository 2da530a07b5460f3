// Judges what the service answered in a load test against what each planned job must end as:
// every good job SUCCEEDED with exactly the expected scores and complete progress, every bad job
// its own error, every cancelled job terminal and consistent, ListJobs exactly the jobs created
// (by request id: none lost, none twice), and jobs with identical inputs identical reports.
//
//   JobVerdict v = CheckJob(planned, record);
//   std::vector<std::string> problems = CheckListing(planned, records, listed);
#ifndef EMAR_BENCH_LOAD_OUTCOME_CHECKER_H_
#define EMAR_BENCH_LOAD_OUTCOME_CHECKER_H_

#include <string>
#include <vector>

#include "bench/load/job_mix.h"
#include "bench/load/load_client.h"
#include "emar/v1/job.pb.h"

namespace emar::load {

struct JobVerdict {
  std::string outcome;                // "SUCCEEDED", "FAILED", "INVALID_ARGUMENT", ...
  std::vector<std::string> problems;  // empty when the job ended as it must
};

JobVerdict CheckJob(const PlannedJob& job, const JobRecord& record);

// `planned` and `records` are parallel; `listed` is ListJobs' answer (with a limit above the
// number of jobs). One line per discrepancy.
std::vector<std::string> CheckListing(const std::vector<const PlannedJob*>& planned,
                                      const std::vector<const JobRecord*>& records,
                                      const std::vector<emar::v1::Job>& listed);

// Good or cancelled-but-succeeded jobs whose inputs are identical (same sizes) must have reports
// equal field by field apart from job id and name, whatever shard ran where and how often.
std::vector<std::string> CheckIdenticalInputsAgree(const std::vector<const PlannedJob*>& planned,
                                                   const std::vector<const JobRecord*>& records);

}  // namespace emar::load

#endif  // EMAR_BENCH_LOAD_OUTCOME_CHECKER_H_
