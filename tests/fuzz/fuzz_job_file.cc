// Fuzzes the job file loader (client/job_file.h): ParseJobFile on arbitrary YAML or JSON text
// (JSON is YAML's flow style, so one parser serves both). yaml-cpp reports problems by throwing;
// ParseJobFile must turn every one into a status, so an escaping exception aborts here
// (std::terminate) and libFuzzer saves the input.
//
// Properties checked beyond "no crash": an error is INVALID_ARGUMENT naming the file; a parsed
// job's inputs are distinct paths resolved against the base directory.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "client/job_file.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<emar::JobFile> job = emar::ParseJobFile(text, "fuzz/job.yaml", "fuzz");
  if (!job.ok()) {
    FUZZ_CHECK(job.status().code() == absl::StatusCode::kInvalidArgument) << job.status();
    FUZZ_CHECK(absl::StartsWith(job.status().message(), "fuzz/job.yaml")) << job.status();
    return 0;
  }
  std::set<std::string> paths;
  for (const emar::JobFileInput& in : job->inputs) {
    FUZZ_CHECK(!in.spec_path.empty()) << in.field;
    FUZZ_CHECK(paths.insert(in.spec_path).second) << "'" << in.spec_path << "' listed twice";
    FUZZ_CHECK(absl::StartsWith(in.spec_path, "/") ? in.local_path == in.spec_path
                                                   : in.local_path == "fuzz/" + in.spec_path)
        << in.spec_path << " -> " << in.local_path;
  }
  return 0;
}
