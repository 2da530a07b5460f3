// One simulated user of the load test: its own channel and EvaluationClient, submitting its
// planned jobs one after another and recording everything the service answered, for
// outcome_checker to judge afterwards. It judges nothing itself.
//
// Unary calls have the client library's deadline; Watch re-attaches for at most 10 s after losing
// the coordinator, so Run returns soon after the coordinator dies.
//
// Per job: LoadJobFile; Submit with the job's name as request id; for good jobs a second Submit
// with the same request id (it must return the same job); for cancel jobs CancelJob at once;
// then Watch to a terminal state, GetJob, and GetReport when the job SUCCEEDED (or, for a
// CANCELLED job, to see that there is none).
//
//   LoadClient client(server, &in_flight);
//   std::vector<JobRecord> records = client.Run(planned_jobs);  // on its own thread
#ifndef EMAR_BENCH_LOAD_LOAD_CLIENT_H_
#define EMAR_BENCH_LOAD_LOAD_CLIENT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/load/job_mix.h"
#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"

namespace emar::load {

// What the service answered for one planned job.
struct JobRecord {
  absl::Status load_status;    // reading the job file (a harness problem when not OK)
  absl::Status submit_status;  // Submit (upload + CreateJob)
  std::string job_id;
  bool resubmitted = false;
  absl::Status resubmit_status;
  std::string resubmit_job_id;
  bool cancel_sent = false;
  absl::Status cancel_status;
  emar::v1::JobState cancel_state = emar::v1::JOB_STATE_UNSPECIFIED;  // CancelJob's answer
  absl::Status watch_status;
  emar::v1::Job watched;  // the last event of Watch
  int watch_events = 0;
  absl::Status get_status;
  emar::v1::Job got;  // GetJob after Watch ended
  absl::Status report_status;
  std::optional<emar::v1::Report> report;
  absl::Duration latency;  // Submit start to the end of Watch
  bool finished = false;   // the client got to the end of this job
};

// Jobs between CreateJob and the end of their Watch, for the diagnosis of a run that hits its
// deadline. Thread-safe.
class InFlightJobs {
 public:
  void Add(const std::string& request_id, const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    jobs_[request_id] = job_id;
  }
  void Remove(const std::string& request_id) {
    absl::MutexLock lock(&mu_);
    jobs_.erase(request_id);
  }
  std::map<std::string, std::string> Snapshot() const {
    absl::MutexLock lock(&mu_);
    return jobs_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> jobs_ ABSL_GUARDED_BY(mu_);
};

class LoadClient {
 public:
  // `in_flight` must outlive Run.
  LoadClient(std::string server, InFlightJobs* in_flight)
      : server_(std::move(server)), in_flight_(in_flight) {}

  // Runs the jobs in order; one record per job, in the same order. Blocks until every job is
  // terminal or its RPCs failed (e.g. because the coordinator was killed at the deadline).
  std::vector<JobRecord> Run(const std::vector<PlannedJob>& jobs);

 private:
  const std::string server_;
  InFlightJobs* const in_flight_;
};

}  // namespace emar::load

#endif  // EMAR_BENCH_LOAD_LOAD_CLIENT_H_
