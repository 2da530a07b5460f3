// The inputs of a job, made present on the coordinator before CreateJob: every distinct file is
// hashed (sha256), the coordinator is asked whether it lacks each digest, and only the missing
// ones are uploaded. EvaluationClient::Submit runs it with its own FindMissingBlobs and Upload.
//
// A pipeline: one thread hashes the files in order while the caller's thread asks about each
// digest as it comes and starts its upload, so file k+1 is hashed while file k is sent. Upload
// k+1 starts once upload k has sent its last byte: the coordinator makes k durable (fsync)
// before acknowledging it, and that wait overlaps k+1's transfer instead of idling the link. So
// at most two uploads hold coordinator slots (--max-uploads) at once, one of them only briefly;
// if the second is refused for want of a slot, it is retried once the first has finished, then
// a few times more with a short backoff.
//
//   UploadCalls calls{.is_missing = ..., .upload = ...};
//   ASSIGN_OR_RETURN(std::vector<std::string> digests, UploadInputs(files, calls, on_transfer));
#ifndef EMAR_CLIENT_UPLOAD_PIPELINE_H_
#define EMAR_CLIENT_UPLOAD_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace emar {

// Progress before the job exists: phase "hashing" (bytes hashed of all) or "uploading" (bytes
// sent of those the coordinator lacks, or may lack: not yet asked about; a total fixed from the
// start that only shrinks), or, with import_file, "reading" (bytes of the files imported), then
// "planning" (0, 0) while CreateJob runs.
using TransferCallback = std::function<void(const std::string& phase, int64_t done, int64_t total)>;

// One distinct local file, and the first job spec field naming it (for errors).
struct UploadFile {
  std::string path;
  std::string field;
  int64_t size = 0;  // for progress; 0 when it cannot be read (hashing then says why)
};

// The coordinator calls the pipeline makes; both may be called from several threads.
struct UploadCalls {
  // Whether the coordinator lacks blob `sha256` (FindMissingBlobs).
  std::function<absl::StatusOr<bool>(const std::string& sha256)> is_missing;
  // Streams `path` as blob `sha256`: `on_chunk` gets the bytes of the file sent so far, `on_sent`
  // is called once the last byte is sent (or the stream failed), before the acknowledgement.
  std::function<absl::Status(const std::string& path, const std::string& sha256,
                             const std::function<void(int64_t sent)>& on_chunk,
                             const std::function<void()>& on_sent)>
      upload;
  // Set when the coordinator runs in this process (the embedded mode): stores the file as a blob
  // directly and returns its digest, read, hashed and written in one pass. The pipeline then
  // neither hashes first nor uploads: the files are imported two at a time.
  std::function<absl::StatusOr<std::string>(const std::string& path)> import_file;
};

// The sha256 of each file, in order, once every missing one is uploaded. Errors: a file that
// cannot be hashed (naming its spec field), or the first failed call; uploads already started
// are waited for before it returns.
absl::StatusOr<std::vector<std::string>> UploadInputs(const std::vector<UploadFile>& files,
                                                      const UploadCalls& calls,
                                                      const TransferCallback& on_transfer);

}  // namespace emar

#endif  // EMAR_CLIENT_UPLOAD_PIPELINE_H_
