// Reads a job file (YAML or JSON; the proto JSON mapping of emar.v1.JobSpec with snake_case
// names) and resolves its input paths relative to the file.
//
//   ASSIGN_OR_RETURN(JobFile job, LoadJobFile("examples/restaurant-sentiment/job.yaml"));
//   for (const JobFileInput& in : job.inputs) ... in.spec_path (as written), in.local_path ...
#ifndef EMAR_CLIENT_JOB_FILE_H_
#define EMAR_CLIENT_JOB_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/job.pb.h"

namespace emar {

struct JobFileInput {
  std::string field;       // e.g. "candidates[0].target_outputs"
  std::string spec_path;   // the path as written in the job file (the key sent to the server)
  std::string local_path;  // where to read it from here
};

struct JobFile {
  emar::v1::JobSpec spec;
  std::vector<JobFileInput> inputs;  // spec order (ListJobInputs), one per distinct path
};

// INVALID_ARGUMENT naming the file (and line for YAML syntax errors) on bad input.
absl::StatusOr<JobFile> LoadJobFile(const std::string& path);
// Parses job file text; `base_dir` resolves relative input paths.
absl::StatusOr<JobFile> ParseJobFile(const std::string& text, const std::string& display_name,
                                     const std::string& base_dir);

}  // namespace emar

#endif  // EMAR_CLIENT_JOB_FILE_H_
