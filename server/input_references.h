// Inputs named by reference (JobSpec.input_references, docs/inputs.md) become ordinary
// content-addressed inputs before a job is planned: the request is rewritten so that every path
// holding a reference's URI holds the URI without its query string (a presigned URL's
// credentials never reach the job store, reports or logs) and input_digests maps it to the stated
// sha256; then the coordinator reads each reference once into its blob store, as the caller's
// upload (counted against the store quota), so planning, workers and the score cache work
// unchanged.
//
//   ASSIGN_OR_RETURN(ReferencedInputs in, ResolveInputReferences(request));
//   ... in.request is what the job is made of: fingerprint, retries, planning ...
//   RETURN_IF_ERROR(FetchReferencedInputs(in.refs, fetch_options, &blob_access, who));
#ifndef EMAR_SERVER_INPUT_REFERENCES_H_
#define EMAR_SERVER_INPUT_REFERENCES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"
#include "server/blob_access.h"
#include "server/input_fetch.h"
#include "server/principal.h"

namespace emar {

struct ReferencedInputs {
  emar::v1::CreateJobRequest request;  // input_references resolved into paths and digests
  std::vector<InputReference> refs;    // one per distinct digest, in spec order
};

// INVALID_ARGUMENT naming the input for a malformed reference, a reference no path names, or
// two that differ only in their query string yet state different content.
absl::StatusOr<ReferencedInputs> ResolveInputReferences(const emar::v1::CreateJobRequest& request);

// Reads every reference `who` has not already stored into the blob store (FetchInput's errors,
// or RESOURCE_EXHAUSTED from the store quota). Logs input_fetched events (URI without query).
absl::Status FetchReferencedInputs(const std::vector<InputReference>& refs,
                                   const InputFetchOptions& options, BlobAccess* blobs,
                                   const Principal& who);

}  // namespace emar

#endif  // EMAR_SERVER_INPUT_REFERENCES_H_
